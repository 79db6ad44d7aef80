-- The query-tuning dataset: 100,000 customers and 1,000,000 orders, generated inside the database from a fixed
-- seed, so every run (and your own copy) holds exactly the same rows. Load it into an empty database with
--   psql -d DBNAME -f graders/query-tuning/dataset.sql
-- It takes a few seconds. The grader runs these statements one by one, exactly as psql does.

SET max_parallel_workers_per_gather = 0;
-- VACUUM can mark a page all-visible only once the commits of its rows are flushed to the WAL; servers tuned
-- for speed commit asynchronously, so the load waits for each commit.
SET synchronous_commit = on;
SET TIME ZONE 'UTC';
SELECT setseed(0.42);

-- Autovacuum stays off so the statistics the grader computes do not change while it grades.
CREATE TABLE customers (
    id          bigint      NOT NULL,
    email       text        NOT NULL,
    name        text        NOT NULL,
    country     text        NOT NULL,
    created_at  timestamptz NOT NULL
) WITH (autovacuum_enabled = false);

CREATE TABLE orders (
    id           bigint      NOT NULL,
    customer_id  bigint      NOT NULL,
    store_id     integer     NOT NULL,
    status       text        NOT NULL,
    total_cents  integer     NOT NULL,
    created_at   timestamptz NOT NULL
) WITH (autovacuum_enabled = false);

-- Emails are stored in mixed case ("Ana.Lee10@Mail.NET"); 0.5 % of customers live in IS, 0.33 % in MT.
INSERT INTO customers
SELECT i,
       format('%s.%s%s@%s', (ARRAY['Ana', 'Bo', 'Chen', 'Dara', 'Eli', 'Femi', 'Gus', 'Hana', 'Ivo', 'Jun'])[1 + i % 10],
              (ARRAY['Smith', 'Lee', 'Garcia', 'Kim', 'Novak', 'Silva', 'Olsen', 'Haddad'])[1 + (i / 10) % 8],
              i, (ARRAY['Example.com', 'Mail.NET', 'shop.IO'])[1 + i % 3]),
       (ARRAY['Ana', 'Bo', 'Chen', 'Dara', 'Eli', 'Femi', 'Gus', 'Hana', 'Ivo', 'Jun'])[1 + i % 10] || ' '
           || (ARRAY['Smith', 'Lee', 'Garcia', 'Kim', 'Novak', 'Silva', 'Olsen', 'Haddad'])[1 + (i / 10) % 8],
       CASE WHEN i % 200 = 7 THEN 'IS'
            WHEN i % 300 = 11 THEN 'MT'
            ELSE (ARRAY['US', 'US', 'US', 'DE', 'DE', 'FR', 'GB', 'BR', 'IN', 'JP'])[1 + (i * 7) % 10] END,
       timestamptz '2022-01-01 00:00+00' + i * interval '5 minutes'
FROM generate_series(1, 100000) AS i;

-- Orders arrive every 45 s on average over 17 months (2023-01-01 to 2024-06-04), stamped to the minute, so
-- many orders share a created_at. Customers are skewed: customer 1 has about 3,200 orders, most have a few,
-- and customers 95,001 to 100,000 (the newest) have none. The last 20,000 orders are still open: pending,
-- paid (waiting to be shipped) or shipped; older ones are delivered, cancelled or returned.
INSERT INTO orders
SELECT i,
       1 + floor(95000 * random() ^ 2)::bigint,
       1 + floor(200 * random())::integer,
       CASE WHEN i <= 980000 THEN
                CASE WHEN r < 0.92 THEN 'delivered' WHEN r < 0.97 THEN 'cancelled' ELSE 'returned' END
            ELSE CASE WHEN r < 0.10 THEN 'pending' WHEN r < 0.55 THEN 'paid' ELSE 'shipped' END END,
       500 + floor(50000 * random())::integer,
       date_trunc('minute', timestamptz '2023-01-01 00:00+00' + (i * 45 + floor(120 * random())) * interval '1 second')
FROM (SELECT i, random() AS r FROM generate_series(1, 1000000) AS i) AS g;

-- Constraints come after the load: checking them once is much faster than row by row.
ALTER TABLE customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);
ALTER TABLE orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);

-- Marks every page all-visible (index-only scans need that) and gathers the planner's statistics.
VACUUM (FREEZE, ANALYZE) customers, orders;
