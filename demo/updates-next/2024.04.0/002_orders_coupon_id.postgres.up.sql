-- SET NULL: deleting a coupon must not delete the orders that used it.
ALTER TABLE orders ADD COLUMN coupon_id bigint
    CONSTRAINT orders_coupon_id_fkey REFERENCES coupons (id) ON DELETE SET NULL;
CREATE INDEX orders_coupon_id_idx ON orders (coupon_id);
