-- Aggregate each child table on its own before joining: joining order_lines and payments in one go would
-- repeat every line once per payment (and every payment once per line) and inflate both sums.
CREATE VIEW order_totals AS
SELECT o.id                         AS order_id,
       o.buyer_id,
       o.status,
       coalesce(l.line_count, 0)    AS line_count,
       coalesce(l.item_count, 0)    AS item_count,
       coalesce(l.total, 0.00)      AS total,
       coalesce(p.paid, 0.00)       AS paid
  FROM orders o
  LEFT JOIN (SELECT order_id,
                    count(*)                     AS line_count,
                    sum(quantity)                AS item_count,
                    sum(quantity * unit_price)   AS total
               FROM order_lines
              GROUP BY order_id) l ON l.order_id = o.id
  LEFT JOIN (SELECT order_id, sum(amount) AS paid
               FROM payments
              GROUP BY order_id) p ON p.order_id = o.id;

-- LEFT JOIN keeps products nobody reviewed; count(column) counts 0 for them and avg() is NULL.
CREATE VIEW product_ratings AS
SELECT p.id                       AS product_id,
       p.sku,
       count(r.rating)            AS review_count,
       round(avg(r.rating), 2)    AS average_rating
  FROM products p
  LEFT JOIN reviews r ON r.product_id = p.id
 GROUP BY p.id, p.sku;
