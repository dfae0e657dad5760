-- Find coupons about to expire.
CREATE INDEX coupons_valid_until_idx ON coupons (valid_until);

-- DELIBERATE BUG for the demo: coupon_redemptions does not exist (yet), so this
-- statement fails on both engines after the index above was created.
CREATE VIEW coupon_usage AS
SELECT c.id AS coupon_id,
       c.code,
       COUNT(r.order_id) AS redemptions
FROM coupons c
LEFT JOIN coupon_redemptions r ON r.coupon_id = c.id
GROUP BY c.id, c.code;
