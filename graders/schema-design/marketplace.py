"""The marketplace of the README: its tables and columns, and valid rows the grader writes as the application.

Ids are opaque: the database generates them (identity, serial or a uuid default) and the grader reads them back
with RETURNING, so any key type the README allows works here.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import psycopg

from writes import run

TABLES: dict[str, tuple[str, ...]] = {
    "users": ("id", "email", "full_name", "created_at"),
    "products": ("id", "seller_id", "sku", "title", "price", "stock", "created_at"),
    "orders": ("id", "buyer_id", "status", "created_at"),
    "order_lines": ("order_id", "product_id", "quantity", "unit_price"),
    "payments": ("id", "order_id", "amount", "provider_ref", "paid_at"),
    "reviews": ("id", "user_id", "product_id", "rating", "body", "created_at"),
}
STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled")
PAID_AT = "2026-03-01 12:00:00+00"


class Shop:
    """Inserts valid rows with unique natural keys; every write must succeed."""

    def __init__(self, conn: psycopg.Connection, prefix: str = "") -> None:
        self.conn = conn
        self.prefix = prefix
        self._numbers = itertools.count(1)

    def _next(self) -> int:
        return next(self._numbers)

    def user(self, email: str | None = None, full_name: str = "Ada Lovelace") -> object:
        email = email or f"{self.prefix}user{self._next()}@example.com"
        return self._insert("users", {"email": email, "full_name": full_name}, "a new user")

    def product(
        self,
        seller: object,
        *,
        sku: str | None = None,
        title: str = "Desk lamp",
        price: Decimal = Decimal("9.99"),
        stock: int | None = 5,
    ) -> object:
        values: dict[str, object] = {
            "seller_id": seller,
            "sku": sku or f"{self.prefix}SKU-{self._next()}",
            "title": title,
            "price": price,
        }
        if stock is not None:
            values["stock"] = stock
        return self._insert("products", values, "a new product")

    def order(self, buyer: object, status: str | None = None) -> object:
        values: dict[str, object] = {"buyer_id": buyer}
        if status is not None:
            values["status"] = status
        return self._insert("orders", values, "a new order")

    def line(self, order: object, product: object, quantity: int = 1, unit_price: Decimal = Decimal("9.99")) -> None:
        values = {"order_id": order, "product_id": product, "quantity": quantity, "unit_price": unit_price}
        self._insert("order_lines", values, "an order line", returning=False)

    def payment(self, order: object, amount: Decimal, provider_ref: str | None = None) -> object:
        values = {
            "order_id": order,
            "amount": amount,
            "provider_ref": provider_ref or f"{self.prefix}pay_{self._next()}",
            "paid_at": PAID_AT,
        }
        return self._insert("payments", values, "a payment")

    def review(self, user: object, product: object, rating: int = 5, body: str | None = None) -> object:
        values = {"user_id": user, "product_id": product, "rating": rating, "body": body}
        return self._insert("reviews", values, "a review")

    def _insert(self, table: str, values: dict[str, object], why: str, *, returning: bool = True) -> object:
        statement, params = insert_statement(table, values, returning=returning)
        rows = run(self.conn, statement, params, why=why)
        return rows[0][0] if returning else None


def insert_statement(
    table: str, values: dict[str, object], *, returning: bool = False
) -> tuple[str, tuple[object, ...]]:
    columns = ", ".join(values)
    placeholders = ", ".join("%s" for _ in values)
    statement = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
    if returning:
        statement += " RETURNING id"
    return statement, tuple(values.values())


class World:
    """A small, complete marketplace: the rows most probes refer to."""

    def __init__(self, shop: Shop) -> None:
        self.seller = shop.user("seller@example.com", "Sam Seller")
        self.buyer = shop.user("buyer@example.com", "Bea Buyer")
        self.lamp = shop.product(self.seller, sku="LAMP-1", price=Decimal("19.99"))
        self.desk = shop.product(self.seller, sku="DESK-1", price=Decimal("149.00"))
        self.order = shop.order(self.buyer)
        shop.line(self.order, self.lamp, 2, Decimal("19.99"))
        self.payment = shop.payment(self.order, Decimal("39.98"), "pay_world_1")
        self.review = shop.review(self.buyer, self.lamp, 4, "Bright enough.")
