"""Stage 5: a use case that fails midway on PostgreSQL leaves nothing behind and answers a bare 500."""

import psycopg

import shopdata
from labkit.checks import expect, expect_equal, fail
from tables import count_rows

INTERNAL = {"error": "internal", "message": "internal error"}
ROLLBACK_HINT = (
    "a failed statement aborts its transaction: roll it back (leave the with block) before the connection serves "
    "another request"
)
PARTIAL_HINT = (
    "every write of a use case belongs to one transaction, committed once at its end: a commit per repository call "
    "keeps the writes made before the failure"
)


def poisoned_shop(api, admin_db, rng):
    """Two products and a third whose stock update PostgreSQL refuses; returns them and the refusal's text."""
    first, second = shopdata.catalog(rng, stock=(20, 200)).products[:2]
    poisoned = {**shopdata.product(rng, stock=50), "sku": f"ZZ-{rng.randrange(16**8):08X}"}  # sorts last
    for product in (first, second, poisoned):
        api.expect("POST", "/products", product, status=201)
    canary = f"labkit-canary-{rng.randrange(16**12):012x}"
    with psycopg.connect(admin_db.dsn(), autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            f"""
            CREATE OR REPLACE FUNCTION labkit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.sku = '{poisoned["sku"]}' THEN RAISE EXCEPTION '{canary}: the grader refused this write'; END IF;
                RETURN NEW;
            END $$;
            CREATE OR REPLACE TRIGGER labkit_refuse BEFORE UPDATE ON products
                FOR EACH ROW EXECUTE FUNCTION labkit_refuse();
        """.encode()
        )
    return first, second, poisoned, canary


def failing_order(first, second, poisoned):
    return {
        "lines": [
            {"sku": first["sku"], "quantity": 5},
            {"sku": poisoned["sku"], "quantity": 5},
            {"sku": second["sku"], "quantity": 5},
        ]
    }


def stock_after_a_failure(api, sku):
    reply = api.send("GET", f"/products/{sku}")
    if reply.status != 200 or not isinstance(reply.body, dict):
        fail(
            f"after the failed order, GET /products/{sku} answered {reply.status}",
            expected="200 and the product",
            got=reply.raw[:300].decode(errors="replace"),
            hint=ROLLBACK_HINT,
        )
    return reply.body.get("stock")


def check_a_failed_order_leaves_no_write(api, admin_db, rng):
    """An order whose third write fails changes no stock and stores no order"""
    first, second, poisoned, _ = poisoned_shop(api, admin_db, rng)
    before = {table: count_rows(admin_db, table) for table in ("orders", "order_lines")}
    reply = api.send("POST", "/orders", failing_order(first, second, poisoned))
    expect(
        reply.status == 500,
        f"the order PostgreSQL refused answered {reply.status}, not 500",
        hint="an unexpected exception is a 500",
    )
    for product in (first, second, poisoned):
        stock = stock_after_a_failure(api, product["sku"])
        expect_equal(
            stock, product["stock"], f"the stock of {product['sku']} after the failed order", hint=PARTIAL_HINT
        )
    for table, count in before.items():
        expect_equal(
            count_rows(admin_db, table) - count, 0, f"rows the failed order added to table {table}", hint=PARTIAL_HINT
        )


def check_an_unexpected_error_is_a_bare_500(api, admin_db, rng):
    """An unexpected error answers 500 with the README's body and no internals"""
    first, second, poisoned, canary = poisoned_shop(api, admin_db, rng)
    reply = api.send("POST", "/orders", failing_order(first, second, poisoned))
    text = reply.raw.decode(errors="replace")
    for secret in (canary, "Traceback", "psycopg", "UPDATE", "products"):
        if secret.lower() in text.lower():
            fail(
                f"the 500's body gives away internals ({secret!r})",
                expected=str(INTERNAL).replace("'", '"'),
                got=text[:300],
                hint="log the exception to stderr; answer only the README's body",
            )
    expect_equal((reply.status, reply.body), (500, INTERNAL), "the answer to an order PostgreSQL refused")


def check_the_server_serves_after_a_failure(api, admin_db, rng):
    """After failed requests, the server serves new orders correctly"""
    first, second, poisoned, _ = poisoned_shop(api, admin_db, rng)
    for _ in range(3):
        api.send("POST", "/orders", failing_order(first, second, poisoned))
    stock = first["stock"]
    for quantity in (3, 4, 5, 6):
        api.expect("POST", "/orders", {"lines": [{"sku": first["sku"], "quantity": quantity}]}, status=201)
        stock -= quantity
    expect_equal(
        api.expect("GET", f"/products/{first['sku']}", status=200).get("stock"),
        stock,
        "the stock after four orders that followed three failed ones",
        hint=ROLLBACK_HINT,
    )
    expect(api.send("GET", "/health").status == 200, "GET /health must still answer 200")
