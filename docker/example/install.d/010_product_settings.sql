-- Runs once per database, before the updates, in the first start's install phase
-- (journaled; see docs/install.md). Engine-neutral SQL: the example runs on PostgreSQL
-- and MariaDB. Written to be safe to run again, as MariaDB commits statement by statement.
CREATE TABLE IF NOT EXISTS product_settings (
    name  VARCHAR(100) NOT NULL PRIMARY KEY,
    value VARCHAR(400) NOT NULL
);
INSERT INTO product_settings (name, value)
SELECT 'edition', 'example' WHERE NOT EXISTS (SELECT 1 FROM product_settings WHERE name = 'edition');
