"""Stage 4: the PostgreSQL adapter keeps the unit-of-work contract, checked by the grader's contract tests and
read back with the grader's own connection."""

import shopdata
from labkit.checks import expect_equal, fail
from tables import query, schema_columns, schema_keys

ADAPTER_PROBE = "lsprobe_adapter"
# The README's CREATE TABLE statements: every column NOT NULL (a primary key's columns are, without saying so)
COLUMNS = {
    "products": {"sku": "text", "name": "text", "price_cents": "integer", "stock": "integer"},
    "orders": {"order_id": "text", "status": "text"},
    "order_lines": {
        "order_id": "text",
        "position": "integer",
        "sku": "text",
        "quantity": "integer",
        "unit_price_cents": "integer",
    },
}
KEYS = {
    "products": {"PRIMARY KEY (sku)"},
    "orders": {"PRIMARY KEY (order_id)"},
    "order_lines": {
        "PRIMARY KEY (order_id, position)",
        "FOREIGN KEY (order_id) REFERENCES orders",
        "FOREIGN KEY (sku) REFERENCES products",
    },
}
DDL_HINT = "copy the README's CREATE TABLE statements, NOT NULL, PRIMARY KEY and REFERENCES included"
DISCARD_HINT = "leaving `with uow:` without commit() rolls the transaction back; never commit inside a repository"


def adapter(start_probe, service_env):
    probe = start_probe(ADAPTER_PROBE, service_env)
    probe.call("create_schema", timeout=20.0)
    return probe


def product_rows(admin_db, products):
    """The table's rows for this check's products (the stage's checks share a database)."""
    skus = [product["sku"] for product in products]
    rows = query(
        admin_db, "SELECT sku, name, price_cents, stock FROM products WHERE sku = ANY(%s) ORDER BY sku", (skus,)
    )
    return [dict(zip(("sku", "name", "price_cents", "stock"), row, strict=True)) for row in rows]


def check_schema_has_the_readme_tables(start_probe, service_env, admin_db):
    """create_schema() creates the README's tables, their columns NOT NULL and their keys, and may run twice"""
    probe = adapter(start_probe, service_env)
    probe.call("create_schema", timeout=20.0)
    found_columns, found_keys = schema_columns(admin_db), schema_keys(admin_db)
    for table, types in COLUMNS.items():
        got = {column: found_columns.get(table, {}).get(column) for column in types}
        expected = {column: f"{data_type} NOT NULL" for column, data_type in types.items()}
        expect_equal(got, expected, f"the columns of table {table}", hint=DDL_HINT)
    for table, wanted in KEYS.items():
        found = found_keys.get(table, set())
        if not wanted <= found:
            shown = ", ".join(sorted(found)) or "no key"
            fail(
                f"table {table} lacks a key of the README",
                expected=", ".join(sorted(wanted)),
                got=shown,
                hint=DDL_HINT,
            )


def check_committed_products_come_back(start_probe, service_env, admin_db, rng):
    """Committed products come back equal, from the adapter and from the table"""
    probe = adapter(start_probe, service_env)
    products = shopdata.catalog(rng).products[:3]
    probe.call("add_products", products, "commit")
    unknown = shopdata.sku(rng, 9, prefix="NO")
    got = probe.call("get_products", [p["sku"] for p in products] + [unknown])
    expect_equal(got, [*products, None], "what a new unit of work reads back (None for an unknown sku)")
    expect_equal(
        product_rows(admin_db, products), sorted(products, key=lambda p: p["sku"]), "the rows of table products"
    )


def check_work_not_committed_is_discarded(start_probe, service_env, admin_db, rng):
    """Work left uncommitted, rolled back or ended by an exception is gone"""
    probe = adapter(start_probe, service_env)
    products = shopdata.catalog(rng).products[:3]
    for product, end in zip(products, ("leave", "rollback", "raise"), strict=True):
        probe.call("add_products", [product], end)
        how = {"leave": "without commit()", "rollback": "after rollback()", "raise": "by an exception"}[end]
        expect_equal(
            probe.call("get_products", [product["sku"]]),
            [None],
            f"a product added in a with block left {how}, read by a new unit of work",
            hint=DISCARD_HINT,
        )
    expect_equal(product_rows(admin_db, products), [], "the rows of table products", hint=DISCARD_HINT)


def check_save_stores_changes_on_commit(start_probe, service_env, admin_db, rng):
    """save() followed by commit() stores a changed product; without commit() it does not"""
    probe = adapter(start_probe, service_env)
    product = shopdata.catalog(rng).products[0]
    probe.call("add_products", [product], "commit")
    changed = {"name": product["name"] + " (new)", "stock": product["stock"] + rng.randint(10, 99)}
    probe.call("change_product", product["sku"], changed, "commit")
    expect_equal(
        probe.call("get_products", [product["sku"]]), [{**product, **changed}], "the product after save and commit"
    )
    probe.call("change_product", product["sku"], {"stock": 0}, "leave")
    expect_equal(
        probe.call("get_products", [product["sku"]]),
        [{**product, **changed}],
        "the product after a save without commit",
        hint=DISCARD_HINT,
    )
    expect_equal(product_rows(admin_db, [product]), [{**product, **changed}], "the rows of table products")


def check_orders_round_trip(start_probe, service_env, admin_db, rng):
    """Orders come back with their lines in order, their status saved; uncommitted ones are gone"""
    probe = adapter(start_probe, service_env)
    products = shopdata.catalog(rng).products[:4]
    probe.call("add_products", products, "commit")
    chosen = sorted(products[:3], key=lambda p: p["sku"], reverse=True)  # not the order the table sorts them in
    lines = [{"sku": p["sku"], "quantity": rng.randint(10, 900), "unit_price_cents": p["price_cents"]} for p in chosen]
    order_id, lost_id = f"order-{rng.randrange(16**8):08x}", f"order-{rng.randrange(16**8):08x}-lost"
    probe.call("add_order", order_id, lines, "commit")
    probe.call("add_order", lost_id, lines[:1], "raise")
    expected = {"order_id": order_id, "status": "placed", "lines": lines}
    expect_equal(
        probe.call("get_orders", [order_id, lost_id]),
        [expected, None],
        "the committed order, and one whose block raised",
        hint="read lines back ORDER BY position",
    )
    rows = query(
        admin_db, "SELECT position, sku, quantity FROM order_lines WHERE order_id = %s ORDER BY position", (order_id,)
    )
    expect_equal(
        [list(row) for row in rows],
        [[n, line["sku"], line["quantity"]] for n, line in enumerate(lines)],
        "the rows of table order_lines (position, sku, quantity)",
    )
    probe.call("change_order_status", order_id, "cancelled", "commit")
    expect_equal(probe.call("get_orders", [order_id]), [{**expected, "status": "cancelled"}], "the order after save")


def check_one_unit_of_work_serves_block_after_block(start_probe, service_env, rng):
    """One PostgresUnitOfWork serves one with block after another"""
    probe = adapter(start_probe, service_env)
    first, second = shopdata.catalog(rng).products[:2]
    probe.call("add_products", [first], "commit", True)
    expect_equal(probe.call("get_products", [first["sku"]], True), [first], "a product committed in an earlier block")
    probe.call("add_products", [second], "leave", True)
    expect_equal(
        probe.call("get_products", [second["sku"]], True),
        [None],
        "a product added in an earlier block without commit()",
        hint=DISCARD_HINT,
    )
