-- The column collation is case-insensitive already, so a plain index on name
-- serves the same searches. INPLACE/NONE: build online or fail, never lock writes.
CREATE INDEX products_name_idx ON products (name) ALGORITHM=INPLACE LOCK=NONE;
