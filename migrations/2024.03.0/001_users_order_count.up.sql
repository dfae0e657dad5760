-- The default fills existing rows; step 002 sets the real values.
ALTER TABLE users ADD COLUMN order_count integer NOT NULL DEFAULT 0;
