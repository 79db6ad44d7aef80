-- Unchanged: the partial index on paid orders in migration.sql makes this fast.
SELECT id, customer_id, store_id, created_at
FROM orders
WHERE status = 'paid'
ORDER BY created_at, id
LIMIT 50;
