-- revision = "lib1"
-- down_revisions = []
-- branch_labels = ["audit"]

-- braid:up
CREATE TABLE audit_log (id integer PRIMARY KEY, what text);

-- braid:down
DROP TABLE audit_log;
