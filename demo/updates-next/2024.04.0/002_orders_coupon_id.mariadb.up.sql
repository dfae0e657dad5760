-- One statement, so it applies all or nothing. The index is named explicitly
-- (see 2024.02.0/001) so later indexes cannot make InnoDB drop it.
-- SET NULL: deleting a coupon must not delete the orders that used it.
ALTER TABLE orders
    ADD COLUMN coupon_id BIGINT NULL,
    ADD KEY orders_coupon_id_idx (coupon_id),
    ADD CONSTRAINT orders_coupon_id_fkey
        FOREIGN KEY (coupon_id) REFERENCES coupons (id) ON DELETE SET NULL;
