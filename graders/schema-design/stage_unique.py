"""Stage 4: natural keys are unique; emails are unique whatever their letter case."""

from decimal import Decimal

from marketplace import PAID_AT, insert_statement
from writes import Probe, expect_probes


def duplicate(rule: str, table: str, values: dict[str, object], hint: str) -> Probe:
    statement, params = insert_statement(table, values)
    return Probe(rule, statement, params, ("23505",), hint)


def allowed(rule: str, table: str, values: dict[str, object]) -> Probe:
    statement, params = insert_statement(table, values)
    return Probe(rule, statement, params)


def check_emails_and_natural_keys_are_unique(app, world, shop):
    """Duplicate emails (in any letter case), SKUs, payment references, reviews and order lines fail with 23505"""
    other_order = shop.order(world.buyer)
    line = {"product_id": world.lamp, "quantity": 1, "unit_price": Decimal("19.99")}
    product = {"seller_id": world.buyer, "title": "Another lamp", "price": Decimal("5.00")}
    payment = {"order_id": world.order, "amount": Decimal("1.00"), "paid_at": PAID_AT}
    expect_probes(
        app,
        [
            duplicate("emails are unique", "users", {"email": "buyer@example.com", "full_name": "Bea Again"},
                      "declare users.email UNIQUE"),
            duplicate("emails are unique ignoring letter case", "users",
                      {"email": "Buyer@Example.COM", "full_name": "Bea Again"},
                      "UNIQUE (email) compares exact bytes; create a UNIQUE index on lower(email) (or use citext)"),
            allowed("a different email is a different account", "users",
                    {"email": "buyer2@example.com", "full_name": "Bea Buyer"}),
            duplicate("a SKU names one product", "products", {**product, "sku": "LAMP-1"},
                      "declare products.sku UNIQUE"),
            allowed("another SKU is another product", "products", {**product, "sku": "LAMP-2"}),
            duplicate("a payment provider reference is recorded once", "payments",
                      {**payment, "provider_ref": "pay_world_1"}, "declare payments.provider_ref UNIQUE"),
            duplicate("one review per user and product", "reviews",
                      {"user_id": world.buyer, "product_id": world.lamp, "rating": 2},
                      "declare UNIQUE (user_id, product_id) on reviews"),
            allowed("the same user may review another product", "reviews",
                    {"user_id": world.buyer, "product_id": world.desk, "rating": 2}),
            duplicate("a product appears once per order", "order_lines", {**line, "order_id": world.order},
                      "make (order_id, product_id) the primary key of order_lines, or UNIQUE"),
            allowed("the same product may appear in another order", "order_lines",
                    {**line, "order_id": other_order}),
        ],
    )  # fmt: skip
