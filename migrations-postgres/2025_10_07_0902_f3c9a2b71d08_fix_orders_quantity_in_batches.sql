-- revision = "f3c9a2b71d08"
-- down_revisions = ["a4d1c7e93b20"]
-- message = "fix orders with a quantity below 1, in batches"
-- created = "2025-10-07T09:02:00Z"
-- transactional = false
-- lock_timeout = "2s"

-- The rows the NOT VALID check would refuse are fixed before the next
-- revision validates it. A batch block (SPEC §13): braid runs the UPDATE
-- again and again, 5,000 rows at a time, each batch its own short
-- transaction, until it changes no row, so no writer waits for more than
-- one batch. A rerun after a stop continues where it was. `= ANY(ARRAY(…))`
-- rather than `IN (…)`: PostgreSQL plans IN as a join over the whole table.
-- braid:up
-- braid:batch size=5000 pause=10ms
UPDATE orders SET quantity = 1
WHERE id = ANY(ARRAY(SELECT id FROM orders WHERE quantity < 1 LIMIT :batch_size));

-- braid:down
-- Nothing to undo: the rows fixed stay valid.
