-- revision = "a4d1c7e93b20"
-- down_revisions = ["9b07d4e1c2a5"]
-- message = "orders quantity must be positive (NOT VALID)"
-- created = "2025-10-07T09:00:00Z"

-- The safe recipe for a constraint on a large table (`braid lint`'s
-- constraint-not-valid): NOT VALID checks new rows at once and takes its
-- lock only for an instant; the rows already there are checked by the
-- next revision, whose VALIDATE lets reads and writes go on.
-- braid:up
ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0) NOT VALID;

-- braid:down
ALTER TABLE orders DROP CONSTRAINT orders_quantity_positive;
