"""Stage 3: primary keys, foreign keys that refuse dangling references, and the documented delete behaviour."""

from decimal import Decimal

import psycopg

from labkit.checks import fail
from marketplace import PAID_AT, TABLES, insert_statement
from pgcatalog import tables_with_primary_key
from writes import Probe, expect_probes, run

FK_HINT = "declare {column} REFERENCES {target} (id)"
# NO ACTION answers 23503; RESTRICT does too before PostgreSQL 18, and 23001 restrict_violation since.
REFUSED = ("23503", "23001")


def vanished_id(app: psycopg.Connection, table: str, values: dict[str, object]) -> object:
    """The id of a row that existed and was deleted: a reference to it must fail, whatever the key type."""
    statement, params = insert_statement(table, values, returning=True)
    (row_id,) = run(app, statement, params, why=f"a {table} row to delete")[0]
    run(app, f"DELETE FROM {table} WHERE id = %s", (row_id,), why=f"deleting a {table} row nothing refers to")
    return row_id


def dangling(table: str, values: dict[str, object], column: str, target: str, missing: object) -> Probe:
    statement, params = insert_statement(table, {**values, column: missing})
    return Probe(
        f"{table}.{column} refers to an existing {target} row",
        statement,
        params,
        expect=("23503",),
        hint=FK_HINT.format(column=f"{table}.{column}", target=target),
    )


def check_tables_have_primary_keys_and_references_must_exist(app, admin, world):
    """Every table has a primary key; a reference to a row that does not exist fails with 23503"""
    missing = sorted(set(TABLES) - tables_with_primary_key(admin))
    if missing:
        fail(
            f"no PRIMARY KEY on {', '.join(missing)}",
            hint="give every table a primary key: a generated id, or (order_id, product_id) for order_lines",
        )
    gone_user = vanished_id(app, "users", {"email": "gone@example.com", "full_name": "Gone Away"})
    gone_product = vanished_id(app, "products", {"seller_id": world.seller, "sku": "GONE-1", "title": "Gone",
                                                  "price": Decimal("1.00")})  # fmt: skip
    gone_order = vanished_id(app, "orders", {"buyer_id": world.buyer})
    line = {"order_id": world.order, "product_id": world.desk, "quantity": 1, "unit_price": Decimal("149.00")}
    product = {"seller_id": world.seller, "sku": "FK-1", "title": "Lamp", "price": Decimal("1.00")}
    payment = {"order_id": world.order, "amount": Decimal("1.00"), "provider_ref": "pay_fk", "paid_at": PAID_AT}
    review = {"user_id": world.seller, "product_id": world.desk, "rating": 3}
    expect_probes(
        app,
        [
            dangling("products", product, "seller_id", "users", gone_user),
            dangling("orders", {"buyer_id": world.buyer}, "buyer_id", "users", gone_user),
            dangling("order_lines", line, "order_id", "orders", gone_order),
            dangling("order_lines", line, "product_id", "products", gone_product),
            dangling("payments", payment, "order_id", "orders", gone_order),
            dangling("reviews", review, "user_id", "users", gone_user),
            dangling("reviews", review, "product_id", "products", gone_product),
        ],
    )


def check_deleting_referenced_rows_is_refused_and_order_lines_cascade(app, shop):
    """Deleting a referenced user, product or paid order fails with 23503; deleting an order removes its lines"""
    # One reference per user, so that a cascade stopped by some other key cannot pass for a refusal.
    seller, buyer, reviewer, payer, idle = (shop.user() for _ in range(5))
    sold = shop.product(seller)
    reviewed = shop.product(idle)
    order = shop.order(buyer)
    shop.line(order, sold, 2)
    paid_order = shop.order(payer)
    shop.payment(paid_order, Decimal("5.00"))
    shop.review(reviewer, reviewed, 4)
    refused = "deleting {what} is refused while {why}"
    probes = [
        Probe(refused.format(what="a user", why="they sell products"), "DELETE FROM users WHERE id = %s",
              (seller,), REFUSED, "keep the default ON DELETE NO ACTION (or RESTRICT) on products.seller_id"),
        Probe(refused.format(what="a user", why="they have orders"), "DELETE FROM users WHERE id = %s",
              (buyer,), REFUSED, "keep the default ON DELETE NO ACTION (or RESTRICT) on orders.buyer_id"),
        Probe(refused.format(what="a user", why="they wrote reviews"), "DELETE FROM users WHERE id = %s",
              (reviewer,), REFUSED, "keep the default ON DELETE NO ACTION (or RESTRICT) on reviews.user_id"),
        Probe(refused.format(what="a product", why="order lines refer to it"), "DELETE FROM products WHERE id = %s",
              (sold,), REFUSED, "keep the default ON DELETE NO ACTION (or RESTRICT) on order_lines.product_id"),
        Probe(refused.format(what="a product", why="reviews refer to it"), "DELETE FROM products WHERE id = %s",
              (reviewed,), REFUSED, "keep the default ON DELETE NO ACTION (or RESTRICT) on reviews.product_id"),
        Probe(refused.format(what="an order", why="it has payments"), "DELETE FROM orders WHERE id = %s",
              (paid_order,), REFUSED, "keep the default ON DELETE NO ACTION (or RESTRICT) on payments.order_id"),
        Probe("deleting an order without payments deletes its lines", "DELETE FROM orders WHERE id = %s",
              (order,), after=f"SELECT NOT EXISTS (SELECT FROM order_lines WHERE order_id = {_literal(order)})",
              hint="declare order_lines.order_id REFERENCES orders (id) ON DELETE CASCADE"),
    ]  # fmt: skip
    expect_probes(app, probes)


def _literal(value: object) -> str:
    return str(value) if isinstance(value, int) else f"'{value}'"
