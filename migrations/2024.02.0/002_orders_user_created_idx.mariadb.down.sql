DROP INDEX IF EXISTS orders_user_created_idx ON orders;
