-- A different set of indexes that serves the same seven queries.

-- customer_by_email: a hash index answers equality on lower(email) just as well as a B-tree.
CREATE INDEX customers_email_lower_hash ON customers USING hash (lower(email));

-- orders_on_day: the query compares the UTC calendar day, an immutable expression that can be indexed.
CREATE INDEX orders_utc_day ON orders (((created_at AT TIME ZONE 'UTC')::date));

-- orders_page: newest first, in the index's own order.
CREATE INDEX orders_newest_first ON orders (created_at DESC, id DESC);

-- recent_orders and customer_activity.
CREATE INDEX orders_by_customer_newest_first ON orders (customer_id, created_at DESC, id DESC);

-- shipping_backlog: the paid orders only, carrying every column the query returns (an index-only scan).
CREATE INDEX orders_paid_backlog ON orders (created_at, id) INCLUDE (customer_id, store_id) WHERE status = 'paid';

-- store_revenue: total_cents as a third key column instead of an INCLUDE column.
CREATE INDEX orders_store_day_total ON orders (store_id, created_at, total_cents);
