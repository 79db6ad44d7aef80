-- The composite unique index (product_id, order_id) covers order_lines.product_id; order_id needs its own.
-- reviews (product_id, user_id) covers product_id; user_id needs its own.
CREATE INDEX ON products (seller_id);
CREATE INDEX ON orders (buyer_id, created_at);
CREATE INDEX ON order_lines (order_id);
CREATE INDEX ON payments (order_id);
CREATE INDEX ON reviews (user_id);
