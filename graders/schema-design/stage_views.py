"""Stage 8: the order_totals and product_ratings views return the documented rows for a generated dataset."""

import random
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

import psycopg
from psycopg.rows import TupleRow

from labkit.checks import fail, log
from marketplace import Shop

CENT = Decimal("0.01")
ORDER_TOTALS = ("order_id", "buyer_id", "status", "line_count", "item_count", "total", "paid")
PRODUCT_RATINGS = ("product_id", "sku", "review_count", "average_rating")


def price(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(100, 9999)) / 100


def read_view(app: psycopg.Connection, view: str, names: Sequence[str]) -> list[TupleRow]:
    columns = ", ".join(f"{name}::text" if name == "status" else name for name in names)
    try:
        rows = app.execute(f"SELECT {columns} FROM {view}").fetchall()
    except psycopg.Error as error:
        fail(
            f"SELECT {columns} FROM {view} failed: {error.sqlstate} {(error.diag.message_primary or '').strip()}",
            hint=f"create the view {view} with exactly the columns {', '.join(names)}",
        )
    log(f"SELECT ... FROM {view} → {len(rows)} rows")
    return rows


def compare(
    view: str,
    key: str,
    expected: Mapping[object, tuple[object, ...]],
    rows: list[TupleRow],
    names: Sequence[str],
    hint_for: Callable[[str, tuple[object, ...]], str | None],
) -> None:
    got: dict[object, TupleRow] = {}
    duplicates: list[object] = []
    for row in rows:
        if row[0] in got:
            duplicates.append(row[0])
        got[row[0]] = row
    problems = [f"{key} {ident} appears more than once" for ident in duplicates]
    hints: list[str | None] = []
    for ident, want in expected.items():
        have = got.get(ident)
        if have is None:
            problems.append(f"{key} {ident} is missing; expected {_shown(names, want)}")
            hints.append(hint_for("missing", want))
        elif tuple(have) != tuple(want):
            wrong = [
                f"{name} {shown(have[i])} (expected {shown(want[i])})"
                for i, name in enumerate(names)
                if have[i] != want[i]
            ]
            problems.append(f"{key} {ident}: " + ", ".join(wrong))
            hints.extend(hint_for(name, want) for i, name in enumerate(names) if have[i] != want[i])
    extra = sorted(set(got) - set(expected), key=str)
    problems.extend(f"{key} {ident} is not in the data at all" for ident in extra)
    if problems:
        fail(
            f"{view} returned wrong rows:\n  " + "\n  ".join(problems[:8]),
            expected=f"{len(expected)} rows, one per {key.split()[0]}",
            got=f"{len(rows)} rows",
            hint=next((hint for hint in hints if hint), None),
        )


def _shown(names: Sequence[str], values: Sequence[object]) -> str:
    return ", ".join(f"{name} {shown(value)}" for name, value in zip(names, values, strict=True))


def shown(value: object) -> str:
    """A value as psql would print it: numbers plainly, NULL for None, text quoted."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def check_order_totals_add_up(app, rng):
    """order_totals has one row per order, lines and payments summed separately, zeros when there are none"""
    shop = Shop(app)
    buyers = [shop.user() for _ in range(3)]
    seller = shop.user()
    products = [shop.product(seller, price=price(rng)) for _ in range(4)]
    plans = [  # (lines, payments, status): a mix that exposes fan-out, inner joins and missing coalesce
        (3, 2, "paid"),
        (1, 0, "pending"),
        (0, 1, "pending"),
        (0, 0, "cancelled"),
        (2, 1, "shipped"),
        (2, 3, "delivered"),
    ]
    expected = {}
    for number, (line_count, payment_count, status) in enumerate(plans):
        buyer = buyers[number % len(buyers)]
        order = shop.order(buyer, status)
        quantities, total = 0, Decimal("0.00")
        for product in rng.sample(products, line_count):
            quantity, unit_price = rng.randint(1, 5), price(rng)
            shop.line(order, product, quantity, unit_price)
            quantities += quantity
            total += quantity * unit_price
        paid = Decimal("0.00")
        for _ in range(payment_count):
            amount = price(rng)
            shop.payment(order, amount)
            paid += amount
        expected[order] = (order, buyer, status, line_count, quantities, total, paid)
    rows = read_view(app, "order_totals", ORDER_TOTALS)

    def hint_for(what: str, want: tuple[object, ...]) -> str | None:
        if what == "missing":
            return "an order without lines or payments still has a row: LEFT JOIN from orders"
        if what in ("total", "paid", "line_count", "item_count"):
            return (
                "joining order_lines and payments in one query repeats each line once per payment (and each "
                "payment once per line): aggregate each table in a subquery, then join; use coalesce(..., 0)"
            )
        return None

    compare("order_totals", "order", expected, rows, ORDER_TOTALS, hint_for)


def check_product_ratings_count_and_average(app, rng):
    """product_ratings has one row per product, review count 0 and average NULL when unreviewed"""
    shop = Shop(app)
    seller = shop.user()
    reviewers = [shop.user() for _ in range(4)]
    expected = {}
    for count in (3, 1, 0, 2, 4):
        sku = f"RATE-{rng.randint(1000, 9999)}-{count}"
        product = shop.product(seller, sku=sku)
        ratings = [rng.randint(1, 5) for _ in range(count)]
        if count == 3 and sum(ratings) % 3 == 0:
            ratings[-1] = ratings[-1] % 5 + 1  # a third that shows the rounding
        for reviewer, rating in zip(reviewers, ratings, strict=False):
            shop.review(reviewer, product, rating)
        average = (Decimal(sum(ratings)) / count).quantize(CENT, ROUND_HALF_UP) if count else None
        expected[product] = (product, sku, count, average)
    rows = read_view(app, "product_ratings", PRODUCT_RATINGS)

    def hint_for(what: str, want: tuple[object, ...]) -> str | None:
        if what == "missing":
            return "a product nobody reviewed still has a row: LEFT JOIN from products"
        if what == "review_count":
            return "count(r.rating) counts only matching reviews; count(*) counts the NULL row of a LEFT JOIN as 1"
        if what == "average_rating":
            return "average_rating is round(avg(rating), 2), and NULL for a product without reviews"
        return None

    compare("product_ratings", "product", expected, rows, PRODUCT_RATINGS, hint_for)
