-- revision = "9b07d4e1c2a5"
-- down_revisions = ["5ac0e6d2f918"]
-- message = "index orders by user, concurrently"
-- created = "2025-10-06T08:00:00Z"
-- transactional = false

-- PostgreSQL only (this directory is listed for PostgreSQL in braid.toml):
-- CREATE INDEX CONCURRENTLY builds without locking writes, and cannot run
-- inside a transaction, hence `transactional = false`.
-- braid:up
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_user_id ON orders (user_id);

-- braid:down
DROP INDEX CONCURRENTLY IF EXISTS ix_orders_user_id;
