-- The boneca application's schema as it should be: the desired state that
-- `braid revision --autogenerate` (`make migrate-create MSG=…`) reaches
-- from the migrations, and `braid diff migrations schema` checks against
-- them. Plain SQL for SQLite and PostgreSQL; schema-postgres/ adds what
-- only PostgreSQL has.

CREATE TABLE users (
    id integer PRIMARY KEY,
    email varchar(255) NOT NULL UNIQUE,
    display_name varchar(100),
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted_at timestamp,
    gdpr_consent_at timestamp
);

CREATE TABLE credentials (
    user_id integer PRIMARY KEY REFERENCES users (id),
    password_hash varchar(255) NOT NULL,
    updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE sessions (
    id varchar(64) PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    expires_at timestamp NOT NULL
);
CREATE INDEX ix_sessions_user_id ON sessions (user_id);

CREATE TABLE products (
    id integer PRIMARY KEY,
    sku varchar(32) NOT NULL UNIQUE,
    name varchar(200) NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0)
);

CREATE TABLE orders (
    id integer PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    product_id integer NOT NULL REFERENCES products (id),
    session_id varchar(64) REFERENCES sessions (id),
    quantity integer NOT NULL DEFAULT 1,
    placed_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
