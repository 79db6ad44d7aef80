-- One lookup per customer instead of two correlated subqueries. LATERAL keeps customers without orders
-- (an aggregate without GROUP BY always returns one row: count 0, max NULL).
SELECT c.id, c.name, activity.order_count, activity.last_order_at
FROM customers AS c
CROSS JOIN LATERAL (
    SELECT count(*) AS order_count, max(o.created_at) AS last_order_at
    FROM orders AS o
    WHERE o.customer_id = c.id
) AS activity
WHERE c.country = $1
ORDER BY c.id;
