SELECT id, customer_id, store_id, created_at FROM orders
WHERE status = 'paid' ORDER BY created_at ASC, id ASC LIMIT 50;
