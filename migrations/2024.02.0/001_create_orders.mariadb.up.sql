-- FK columns get explicitly named indexes: InnoDB silently drops its own
-- auto-created FK index once another index covers the column (step 002),
-- and then refuses to drop that other index on revert (error 1553).
CREATE TABLE orders (
    id         BIGINT NOT NULL AUTO_INCREMENT,
    user_id    BIGINT NOT NULL,
    status     VARCHAR(16) NOT NULL DEFAULT 'new',
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    KEY orders_user_id_idx (user_id),
    CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT orders_status_check CHECK (status IN ('new', 'paid', 'shipped', 'cancelled'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- No ON DELETE on product_id: a product that was ordered must not vanish from history.
CREATE TABLE order_lines (
    order_id         BIGINT NOT NULL,
    product_id       BIGINT NOT NULL,
    quantity         INT NOT NULL,
    unit_price_cents INT NOT NULL,
    PRIMARY KEY (order_id, product_id),
    KEY order_lines_product_id_idx (product_id),
    CONSTRAINT order_lines_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
    CONSTRAINT order_lines_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id),
    CONSTRAINT order_lines_quantity_check CHECK (quantity > 0),
    CONSTRAINT order_lines_unit_price_cents_check CHECK (unit_price_cents >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
