-- revision = "w2"
-- down_revisions = ["w1"]

-- braid:up
CREATE TABLE traced (id integer PRIMARY KEY);

-- braid:down
DROP TABLE traced;
