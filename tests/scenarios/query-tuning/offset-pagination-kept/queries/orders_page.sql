-- The page after the first page_offset orders; the index on (created_at, id) gives the order.
SELECT id, customer_id, total_cents, created_at
FROM orders
ORDER BY created_at DESC, id DESC
LIMIT 50 OFFSET $1;
