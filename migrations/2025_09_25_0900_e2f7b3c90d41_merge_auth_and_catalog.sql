-- revision = "e2f7b3c90d41"
-- down_revisions = ["7d52e0a9c318", "c60a8d15e7f2"]
-- message = "merge auth and catalog"
-- created = "2025-09-25T09:00:00Z"

-- braid:up
-- Joins the two teams' branches; no SQL of its own.

-- braid:down
