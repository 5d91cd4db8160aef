-- PostgreSQL only: built concurrently by the migration on large tables.
CREATE INDEX ix_orders_user_id ON orders (user_id);
