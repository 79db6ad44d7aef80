-- Keyset pagination: start right after the last row of the previous page ($2, $3). The row comparison breaks
-- ties on created_at by id, exactly like the ORDER BY, and orders (created_at, id) answers it directly.
-- $1 (the page offset) is not needed.
SELECT id, customer_id, total_cents, created_at
FROM orders
WHERE (created_at, id) < ($2, $3)
ORDER BY created_at DESC, id DESC
LIMIT 50;
