CREATE VIEW order_totals AS
SELECT o.id AS order_id,
       o.buyer_id,
       o.status,
       (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) AS line_count,
       (SELECT coalesce(sum(l.quantity), 0) FROM order_lines l WHERE l.order_id = o.id) AS item_count,
       (SELECT coalesce(sum(l.quantity * l.unit_price), 0) FROM order_lines l WHERE l.order_id = o.id) AS total,
       (SELECT coalesce(sum(p.amount), 0) FROM payments p WHERE p.order_id = o.id) AS paid
  FROM orders o;

CREATE VIEW product_ratings AS
SELECT p.id AS product_id,
       p.sku,
       coalesce(r.review_count, 0) AS review_count,
       r.average_rating
  FROM products p
  LEFT JOIN (SELECT product_id, count(*) AS review_count, round(avg(rating), 2) AS average_rating
               FROM reviews GROUP BY product_id) r ON r.product_id = p.id;
