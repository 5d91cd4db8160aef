-- revision = "c60a8d15e7f2"
-- down_revisions = ["b9e4f2713a6c"]
-- depends_on = ["7d52e0a9c318"]
-- message = "add orders"
-- created = "2025-09-24T10:30:00Z"

-- Orders remember the session that placed them, so this revision needs the
-- auth branch's sessions table: a dependency across branches, not a merge.
-- braid:up
CREATE TABLE orders (
    id integer PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    product_id integer NOT NULL REFERENCES products (id),
    session_id varchar(64) REFERENCES sessions (id),
    quantity integer NOT NULL DEFAULT 1,
    placed_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- braid:down
DROP TABLE orders;
