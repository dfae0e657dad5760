-- "Orders of a user, newest first"; also serves the user_id foreign key.
CREATE INDEX orders_user_created_idx ON orders (user_id, created_at);
