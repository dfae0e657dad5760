-- CONCURRENTLY: do not block writes to products while the index builds.
-- Case-insensitive search uses lower(name).
CREATE INDEX CONCURRENTLY products_name_idx ON products (lower(name));
