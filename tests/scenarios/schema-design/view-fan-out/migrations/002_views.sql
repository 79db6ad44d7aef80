CREATE VIEW order_totals AS
SELECT o.id AS order_id, o.buyer_id, o.status,
       count(DISTINCT l.product_id)                    AS line_count,
       coalesce(sum(l.quantity), 0)                    AS item_count,
       coalesce(sum(l.quantity * l.unit_price), 0.00)  AS total,
       coalesce(sum(p.amount), 0.00)                   AS paid
  FROM orders o
  LEFT JOIN order_lines l ON l.order_id = o.id
  LEFT JOIN payments p ON p.order_id = o.id
 GROUP BY o.id, o.buyer_id, o.status;

-- LEFT JOIN keeps products nobody reviewed; count(column) counts 0 for them and avg() is NULL.
CREATE VIEW product_ratings AS
SELECT p.id                       AS product_id,
       p.sku,
       count(r.rating)            AS review_count,
       round(avg(r.rating), 2)    AS average_rating
  FROM products p
  LEFT JOIN reviews r ON r.product_id = p.id
 GROUP BY p.id, p.sku;
