-- MariaDB multiplies integers in 64 bits, so no cast is needed here.
-- LEFT JOIN so that orders without lines show a total of 0.
CREATE VIEW order_totals AS
SELECT o.id AS order_id,
       o.user_id,
       COALESCE(SUM(l.quantity * l.unit_price_cents), 0) AS total_cents
FROM orders o
LEFT JOIN order_lines l ON l.order_id = o.id
GROUP BY o.id, o.user_id;
