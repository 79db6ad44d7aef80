-- Keyset pagination: start after the last row of the previous page.
SELECT id, customer_id, total_cents, created_at
FROM orders
WHERE created_at < $2
ORDER BY created_at DESC, id DESC
LIMIT 50;
