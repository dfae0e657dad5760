ALTER TABLE orders
    DROP FOREIGN KEY IF EXISTS orders_coupon_id_fkey,
    DROP INDEX IF EXISTS orders_coupon_id_idx,
    DROP COLUMN IF EXISTS coupon_id;
