SELECT o.id, o.status, o.total_cents, o.created_at
FROM orders o
WHERE o.customer_id = $1
ORDER BY o.created_at DESC, o.id DESC
FETCH FIRST 10 ROWS ONLY;
