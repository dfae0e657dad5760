-- Also removes an INVALID index left behind by a failed concurrent build.
DROP INDEX CONCURRENTLY IF EXISTS products_name_idx;
