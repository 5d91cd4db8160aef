-- revision = "f1"
-- down_revisions = []

-- braid:up
CREATE TABLE ok_table (id integer PRIMARY KEY);

-- braid:down
DROP TABLE ok_table;
