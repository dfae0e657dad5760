UPDATE users SET order_count = (SELECT count(*) FROM orders o WHERE o.user_id = users.id);
