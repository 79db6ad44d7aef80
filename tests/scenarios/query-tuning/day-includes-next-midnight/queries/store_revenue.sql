-- Unchanged: orders (store_id, created_at) INCLUDE (total_cents) answers it with an Index Only Scan.
SELECT count(*) AS orders, sum(total_cents) AS revenue_cents
FROM orders
WHERE store_id = $1
  AND created_at >= $2
  AND created_at < $3;
