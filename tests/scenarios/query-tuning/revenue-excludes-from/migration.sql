-- Indexes for the seven queries in queries/. Each one says which queries it serves.

-- customer_by_email: the index stores lower(email), exactly the expression the query compares.
CREATE INDEX customers_lower_email_idx ON customers (lower(email));

-- orders_on_day (a range of created_at) and orders_page (read backwards from a (created_at, id) position).
CREATE INDEX orders_created_at_id_idx ON orders (created_at, id);

-- recent_orders (this customer's newest first, no sort) and customer_activity (count and max per customer
-- from the index alone).
CREATE INDEX orders_customer_created_at_id_idx ON orders (customer_id, created_at, id);

-- shipping_backlog: only the paid orders, in the order the query wants them.
CREATE INDEX orders_paid_created_at_id_idx ON orders (created_at, id) WHERE status = 'paid';

-- store_revenue: keys for the WHERE clause, total_cents carried along so the table is never visited.
CREATE INDEX orders_store_created_at_idx ON orders (store_id, created_at) INCLUDE (total_cents);
