-- A differently built, equally correct schema: uuid keys, citext emails, an enum for order status, a domain for
-- money, a surrogate key on order lines, deferred foreign keys and named constraints everywhere.
CREATE EXTENSION IF NOT EXISTS citext;

CREATE DOMAIN amount AS numeric(14, 2);

CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'cancelled');
