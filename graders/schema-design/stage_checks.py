"""Stage 5: business rules as constraints: amounts, counts, ratings, statuses and email shape."""

from decimal import Decimal

from marketplace import PAID_AT, STATUSES, insert_statement
from writes import Probe, expect_probes

# A fixed set of statuses may be a CHECK (23514), an enum type (22P02) or a lookup table (23503).
STATUS_REJECTIONS = ("23514", "22P02", "23503")


def broken(rule: str, table: str, values: dict[str, object], hint: str, expect: tuple[str, ...] = ("23514",)) -> Probe:
    statement, params = insert_statement(table, values)
    return Probe(rule, statement, params, expect, hint)


def fine(rule: str, table: str, values: dict[str, object]) -> Probe:
    statement, params = insert_statement(table, values)
    return Probe(rule, statement, params)


def check_amounts_and_counts_respect_their_bounds(app, world):
    """Negative prices and stock, zero quantities and amounts fail with 23514; the boundary values are fine"""
    product = {"seller_id": world.seller, "sku": "CHECK-1", "title": "Lamp", "price": Decimal("1.00"), "stock": 1}
    line = {"order_id": world.order, "product_id": world.desk, "quantity": 1, "unit_price": Decimal("149.00")}
    payment = {"order_id": world.order, "amount": Decimal("1.00"), "provider_ref": "pay_check", "paid_at": PAID_AT}
    expect_probes(
        app,
        [
            broken("a price is never negative", "products", {**product, "price": Decimal("-0.01")},
                   "add CHECK (price >= 0) to products"),
            fine("a product may be free (price 0.00)", "products", {**product, "price": Decimal("0.00")}),
            broken("stock is never negative", "products", {**product, "stock": -1},
                   "add CHECK (stock >= 0) to products"),
            fine("stock may be 0", "products", {**product, "stock": 0}),
            broken("an order line has a positive quantity", "order_lines", {**line, "quantity": 0},
                   "add CHECK (quantity > 0) to order_lines"),
            broken("an order line has a positive quantity", "order_lines", {**line, "quantity": -2},
                   "add CHECK (quantity > 0) to order_lines"),
            fine("a quantity of 1 is fine", "order_lines", line),
            broken("a unit price is never negative", "order_lines", {**line, "unit_price": Decimal("-0.01")},
                   "add CHECK (unit_price >= 0) to order_lines"),
            broken("a payment amount is positive", "payments", {**payment, "amount": Decimal("0.00")},
                   "add CHECK (amount > 0) to payments"),
            broken("a payment amount is positive", "payments", {**payment, "amount": Decimal("-5.00")},
                   "add CHECK (amount > 0) to payments"),
            fine("a payment of 0.01 is fine", "payments", {**payment, "amount": Decimal("0.01")}),
        ],
    )  # fmt: skip


def check_ratings_statuses_and_emails_follow_the_rules(app, world):
    """Ratings outside 1..5, unknown order statuses and emails without a proper @ are refused"""
    review = {"user_id": world.seller, "product_id": world.desk}
    status_hint = "add CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')) to orders"
    probes = [
        broken("a rating is at least 1", "reviews", {**review, "rating": 0}, "add CHECK (rating BETWEEN 1 AND 5)"),
        broken("a rating is at most 5", "reviews", {**review, "rating": 6}, "add CHECK (rating BETWEEN 1 AND 5)"),
        fine("a rating of 1 is fine", "reviews", {**review, "rating": 1}),
        fine("a rating of 5 is fine", "reviews", {**review, "rating": 5}),
        broken("an order status is one of the five", "orders", {"buyer_id": world.buyer, "status": "lost"},
               status_hint, STATUS_REJECTIONS),
        broken("order statuses are lower case", "orders", {"buyer_id": world.buyer, "status": "PAID"},
               status_hint, STATUS_REJECTIONS),
        Probe("an order's status cannot be updated to an unknown one", "UPDATE orders SET status = %s WHERE id = %s",
              ("refunded", world.order), STATUS_REJECTIONS, status_hint),
        *(Probe(f"an order may move to status '{status}'", "UPDATE orders SET status = %s WHERE id = %s",
                (status, world.order)) for status in STATUSES),
        broken("an email contains @", "users", {"email": "bob.example.com", "full_name": "Bob Nomail"},
               "add a CHECK on users.email, e.g. email LIKE '_%@_%'"),
        broken("an email has something before the @", "users", {"email": "@example.com", "full_name": "Bob Nomail"},
               "add a CHECK on users.email, e.g. email LIKE '_%@_%'"),
        broken("an email has something after the @", "users", {"email": "bob@", "full_name": "Bob Nomail"},
               "add a CHECK on users.email, e.g. email LIKE '_%@_%'"),
        fine("one character on each side of the @ is enough", "users", {"email": "b@c", "full_name": "Bo Short"}),
    ]  # fmt: skip
    expect_probes(app, probes)
