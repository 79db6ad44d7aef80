-- Each customer with their order count and latest order, in one statement.
SELECT c.id, c.name,
       (SELECT count(*) FROM orders AS o WHERE o.customer_id = c.id) AS order_count,
       (SELECT max(o.created_at) FROM orders AS o WHERE o.customer_id = c.id) AS last_order_at
FROM customers AS c
WHERE c.country = $1
ORDER BY c.id;
