-- revision = "w1"
-- down_revisions = []

-- braid:up

-- braid:down
