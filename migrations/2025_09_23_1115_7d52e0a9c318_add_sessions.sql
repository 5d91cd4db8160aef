-- revision = "7d52e0a9c318"
-- down_revisions = ["3f1c9a7e2b40"]
-- message = "add sessions"
-- created = "2025-09-23T11:15:00Z"

-- braid:up
CREATE TABLE sessions (
    id varchar(64) PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    expires_at timestamp NOT NULL
);
CREATE INDEX ix_sessions_user_id ON sessions (user_id);

-- braid:down
DROP INDEX ix_sessions_user_id;
DROP TABLE sessions;
