-- utf8mb4 spelled out: the server default may still be latin1.
-- DATETIME has no time zone: the application stores UTC.
CREATE TABLE users (
    id           BIGINT NOT NULL AUTO_INCREMENT,
    email        VARCHAR(255) NOT NULL,
    display_name VARCHAR(100) NULL,
    created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (id),
    UNIQUE KEY users_email_key (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
