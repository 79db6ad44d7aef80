SELECT count(*) AS orders, sum(total_cents) AS revenue_cents
FROM orders
WHERE store_id = $1 AND created_at >= $2 AND created_at < $3;
