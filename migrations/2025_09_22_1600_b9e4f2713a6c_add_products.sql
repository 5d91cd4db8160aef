-- revision = "b9e4f2713a6c"
-- down_revisions = ["859efdfc3f9f"]
-- branch_labels = ["catalog"]
-- message = "add products"
-- created = "2025-09-22T16:00:00Z"

-- The catalog team's branch starts here.
-- braid:up
CREATE TABLE products (
    id integer PRIMARY KEY,
    sku varchar(32) NOT NULL UNIQUE,
    name varchar(200) NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0)
);

-- braid:down
DROP TABLE products;
