/* The same day test as the original, written with an expression the migration indexes. */
SELECT id, customer_id, total_cents, created_at
FROM orders
WHERE (created_at AT TIME ZONE 'UTC')::date = $1
ORDER BY id;
