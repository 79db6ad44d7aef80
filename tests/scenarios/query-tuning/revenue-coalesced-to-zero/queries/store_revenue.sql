-- A store's order count and revenue; revenue 0 rather than NULL for a quiet period.
SELECT count(*) AS orders, coalesce(sum(total_cents), 0) AS revenue_cents
FROM orders
WHERE store_id = $1
  AND created_at >= $2
  AND created_at < $3;
