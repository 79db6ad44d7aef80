-- Served by orders (customer_id, created_at, id), read backwards: ten index entries, no sort.
SELECT id, status, total_cents, created_at
FROM orders
WHERE customer_id = $1
ORDER BY created_at DESC, id DESC
LIMIT 10;
