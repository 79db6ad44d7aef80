-- A grouped LEFT JOIN: count(o.id) is 0 and max() NULL for a customer without orders.
SELECT c.id, c.name, count(o.id) AS order_count, max(o.created_at) AS last_order_at
FROM customers c
LEFT JOIN orders o ON o.customer_id = c.id
WHERE c.country = $1
GROUP BY c.id, c.name
ORDER BY c.id;
