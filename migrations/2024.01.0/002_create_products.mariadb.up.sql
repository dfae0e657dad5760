CREATE TABLE products (
    id          BIGINT NOT NULL AUTO_INCREMENT,
    sku         VARCHAR(64) NOT NULL,
    name        VARCHAR(200) NOT NULL,
    price_cents INT NOT NULL,
    created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY products_sku_key (sku),
    CONSTRAINT products_price_cents_check CHECK (price_cents >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
