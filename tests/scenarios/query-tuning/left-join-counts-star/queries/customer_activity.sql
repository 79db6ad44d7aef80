-- Each customer with their order count and latest order: a LEFT JOIN keeps customers without orders.
SELECT c.id, c.name, count(*) AS order_count, max(o.created_at) AS last_order_at
FROM customers AS c
LEFT JOIN orders AS o ON o.customer_id = c.id
WHERE c.country = $1
GROUP BY c.id
ORDER BY c.id;
