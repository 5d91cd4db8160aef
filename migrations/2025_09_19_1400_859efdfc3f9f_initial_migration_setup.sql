-- revision = "859efdfc3f9f"
-- down_revisions = []
-- branch_labels = ["core"]
-- depends_on = []
-- message = "initial migration setup"
-- created = "2025-09-19T14:00:00Z"
-- transactional = true

-- braid:up
CREATE TABLE users (
    id integer PRIMARY KEY,
    email varchar(255) NOT NULL UNIQUE,
    display_name varchar(100),
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted_at timestamp
);

-- braid:down
DROP TABLE users;
