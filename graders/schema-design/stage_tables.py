"""Stage 1: the migrations apply as the application role and build the marketplace, which accepts valid data."""

from decimal import Decimal

from labkit.checks import fail
from marketplace import TABLES, Shop
from pgcatalog import columns, relation_kinds
from writes import Fact, expect_facts


def check_migrations_create_every_table_and_column(app, admin):
    """The migrations apply as the application role and create the six tables with every documented column"""
    kinds = relation_kinds(admin)
    found = columns(admin)
    problems = []
    for table, names in TABLES.items():
        if kinds.get(table) not in ("r", "p"):
            problems.append(f"table {table} " + ("is not a plain table" if table in kinds else "does not exist"))
            continue
        missing = [name for name in names if (table, name) not in found]
        if missing:
            problems.append(f"table {table} has no column {', '.join(missing)}")
    if problems:
        fail(
            "the schema does not match the README:\n  " + "\n  ".join(problems),
            expected="tables " + ", ".join(TABLES) + " in schema public",
            hint="names are exact and lower case: users, products, orders, order_lines, payments, reviews",
        )


def check_valid_data_is_accepted_and_defaults_apply(app):
    """A complete, valid marketplace is accepted, and omitted columns take their documented defaults"""
    shop = Shop(app)
    seller = shop.user("zoë.ångström@example.com", "Zoë Ångström-Nakamura")
    # The README's shortest lengths a text column must hold, exactly: 254, 300, 100, 100 and 10 000 characters.
    buyer = shop.user("a" * 242 + "@example.com", "B" * 295 + " Long")
    free = shop.product(seller, sku="FREE-" + "x" * 95, title="T" * 300, price=Decimal("0.00"), stock=None)
    lamp = shop.product(seller, price=Decimal("12345678.99"), stock=0)
    order = shop.order(buyer)
    shop.line(order, free, 1, Decimal("0.00"))
    shop.line(order, lamp, 3, Decimal("12345678.99"))
    shop.payment(order, Decimal("0.01"), provider_ref="ch_" + "9" * 97)
    shop.review(buyer, lamp, 5, "Works. " * 1428 + "Good")
    shop.review(seller, free, 1, None)
    shop.order(seller, "paid")
    recent = "abs(extract(epoch FROM clock_timestamp() - created_at)) < 3600"
    expect_facts(
        app,
        [
            Fact("products.stock defaults to 0", "SELECT stock = 0 FROM products WHERE id = %s", (free,),
                 "give products.stock DEFAULT 0"),
            Fact("orders.status defaults to 'pending'", "SELECT status::text = 'pending' FROM orders WHERE id = %s",
                 (order,), "give orders.status DEFAULT 'pending'"),
            *(
                Fact(f"{table}.created_at defaults to the time of the insert",
                     f"SELECT bool_and({recent}) FROM {table}", hint=f"give {table}.created_at DEFAULT now()")
                for table in ("users", "products", "orders", "reviews")
            ),
        ],
    )  # fmt: skip
