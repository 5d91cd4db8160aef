-- revision = "e81f3b62d7c4"
-- down_revisions = ["f3c9a2b71d08"]
-- message = "validate the orders quantity check"
-- created = "2025-10-07T09:05:00Z"

-- In its own revision, so its own transaction (validate-in-same-transaction):
-- VALIDATE CONSTRAINT scans the table under SHARE UPDATE EXCLUSIVE, which
-- blocks neither reads nor writes.
-- braid:up
ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_positive;

-- braid:down
-- Back to NOT VALID, as the revision before left it (both statements take
-- their lock for an instant: nothing is scanned).
ALTER TABLE orders DROP CONSTRAINT orders_quantity_positive;
ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0) NOT VALID;
