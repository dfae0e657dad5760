DROP INDEX IF EXISTS orders_coupon_id_idx;
-- Dropping the column drops its foreign key too.
ALTER TABLE orders DROP COLUMN IF EXISTS coupon_id;
