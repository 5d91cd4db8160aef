-- revision = "app1"
-- down_revisions = []
-- branch_labels = ["app"]
-- depends_on = ["audit"]

-- braid:up
CREATE TABLE accounts (id integer PRIMARY KEY);

-- braid:down
DROP TABLE accounts;
