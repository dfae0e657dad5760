-- Back to the value step 001 gave every row.
UPDATE users SET order_count = 0;
