-- The orders of one UTC day, by id; the index on (created_at, id) should make this fast.
SELECT id, customer_id, total_cents, created_at
FROM orders
WHERE created_at::date = $1
ORDER BY id;
