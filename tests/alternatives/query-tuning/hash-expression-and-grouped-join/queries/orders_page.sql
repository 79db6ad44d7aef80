SELECT id, customer_id, total_cents, created_at FROM orders
WHERE (created_at, id) < ($2::timestamptz, $3::bigint)
ORDER BY created_at DESC, id DESC
LIMIT 50
