-- Find coupons about to expire.
CREATE INDEX coupons_valid_until_idx ON coupons (valid_until);

-- Fixed: count the orders that used each coupon.
CREATE VIEW coupon_usage AS
SELECT c.id AS coupon_id,
       c.code,
       COUNT(o.id) AS redemptions
FROM coupons c
LEFT JOIN orders o ON o.coupon_id = c.id
GROUP BY c.id, c.code;
