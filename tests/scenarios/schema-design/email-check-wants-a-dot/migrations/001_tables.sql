-- The marketplace schema, version 1.
-- Every table gets a generated primary key, every reference a foreign key and an index that starts with the
-- referencing column, every business rule a constraint, so the database refuses bad data whichever program
-- writes it.

CREATE TABLE users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text NOT NULL CONSTRAINT users_email_has_at CHECK (email LIKE '_%@_%._%'),
    full_name   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Case-insensitive uniqueness: Alice@Example.com and alice@example.com are the same mailbox.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seller_id   bigint NOT NULL REFERENCES users (id),
    sku         text NOT NULL UNIQUE,
    title       text NOT NULL,
    price       numeric(12, 2) NOT NULL CHECK (price >= 0),
    stock       integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX products_seller_id_idx ON products (seller_id);

CREATE TABLE orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    buyer_id    bigint NOT NULL REFERENCES users (id),
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX orders_buyer_id_idx ON orders (buyer_id);

-- A line belongs to its order (deleting the order deletes its lines) and keeps the price paid at the time.
CREATE TABLE order_lines (
    order_id    bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id  bigint NOT NULL REFERENCES products (id),
    quantity    integer NOT NULL CHECK (quantity > 0),
    unit_price  numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (order_id, product_id)
);

-- The primary key already serves order_id; product_id needs its own index.
CREATE INDEX order_lines_product_id_idx ON order_lines (product_id);

CREATE TABLE payments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id      bigint NOT NULL REFERENCES orders (id),
    amount        numeric(12, 2) NOT NULL CHECK (amount > 0),
    provider_ref  text NOT NULL UNIQUE,
    paid_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX payments_order_id_idx ON payments (order_id);

CREATE TABLE reviews (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    product_id  bigint NOT NULL REFERENCES products (id),
    rating      smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, product_id)
);

-- The unique constraint's index starts with user_id; product_id needs its own.
CREATE INDEX reviews_product_id_idx ON reviews (product_id);
