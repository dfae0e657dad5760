-- Tolerates a partly applied step: the view may never have been created.
DROP VIEW IF EXISTS coupon_usage;
DROP INDEX IF EXISTS coupons_valid_until_idx ON coupons;
