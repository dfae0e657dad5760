-- Either table may be missing if the step stopped half way.
DROP TABLE IF EXISTS order_lines;
DROP TABLE IF EXISTS orders;
