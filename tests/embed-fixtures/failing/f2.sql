-- revision = "f2"
-- down_revisions = ["f1"]

-- braid:up
CREATE TABLE second (id integer PRIMARY KEY);
INSERT INTO no_such_table VALUES (1);

-- braid:down
DROP TABLE second;
