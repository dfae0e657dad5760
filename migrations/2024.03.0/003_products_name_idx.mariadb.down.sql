DROP INDEX IF EXISTS products_name_idx ON products;
