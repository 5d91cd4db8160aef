-- revision = "3f1c9a7e2b40"
-- down_revisions = ["859efdfc3f9f"]
-- branch_labels = ["auth"]
-- message = "add credentials"
-- created = "2025-09-22T09:30:00Z"

-- The auth team's branch starts here.
-- braid:up
CREATE TABLE credentials (
    user_id integer PRIMARY KEY REFERENCES users (id),
    password_hash varchar(255) NOT NULL,
    updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- braid:down
DROP TABLE credentials;
