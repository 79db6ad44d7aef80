-- The orders of one UTC day, by id. Comparing the bare created_at with the day's bounds lets the planner read
-- one range of an index on created_at; created_at::date = $1 would convert every row first.
SELECT id, customer_id, total_cents, created_at
FROM orders
WHERE created_at >= $1
  AND created_at < $1 + 1
ORDER BY id;
