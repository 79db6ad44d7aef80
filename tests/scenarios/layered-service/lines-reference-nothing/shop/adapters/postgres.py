"""The unit of work and repositories on PostgreSQL: one connection and one transaction per ``with`` block."""

from __future__ import annotations

from typing import Self

import psycopg

from shop.domain.model import Order, OrderLine, Product

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    sku text PRIMARY KEY, name text NOT NULL, price_cents integer NOT NULL, stock integer NOT NULL);
CREATE TABLE IF NOT EXISTS orders (order_id text PRIMARY KEY, status text NOT NULL);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id text NOT NULL, position integer NOT NULL, sku text NOT NULL,
    quantity integer NOT NULL, unit_price_cents integer NOT NULL, PRIMARY KEY (order_id, position));
"""


def create_schema(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(SCHEMA)


class PostgresProductRepository:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def get(self, sku: str) -> Product | None:
        row = self.conn.execute("SELECT sku, name, price_cents, stock FROM products WHERE sku = %s", (sku,)).fetchone()
        return None if row is None else Product(sku=row[0], name=row[1], price_cents=row[2], stock=row[3])

    def add(self, product: Product) -> None:
        self.conn.execute(
            "INSERT INTO products (sku, name, price_cents, stock) VALUES (%s, %s, %s, %s)",
            (product.sku, product.name, product.price_cents, product.stock),
        )

    def save(self, product: Product) -> None:
        self.conn.execute(
            "UPDATE products SET name = %s, price_cents = %s, stock = %s WHERE sku = %s",
            (product.name, product.price_cents, product.stock, product.sku),
        )


class PostgresOrderRepository:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def get(self, order_id: str) -> Order | None:
        row = self.conn.execute("SELECT status FROM orders WHERE order_id = %s", (order_id,)).fetchone()
        if row is None:
            return None
        lines = self.conn.execute(
            "SELECT sku, quantity, unit_price_cents FROM order_lines WHERE order_id = %s ORDER BY position",
            (order_id,),
        ).fetchall()
        return Order(order_id=order_id, lines=[OrderLine(*line) for line in lines], status=row[0])

    def add(self, order: Order) -> None:
        self.conn.execute("INSERT INTO orders (order_id, status) VALUES (%s, %s)", (order.order_id, order.status))
        with self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO order_lines (order_id, position, sku, quantity, unit_price_cents)"
                " VALUES (%s, %s, %s, %s, %s)",
                [
                    (order.order_id, position, line.sku, line.quantity, line.unit_price_cents)
                    for position, line in enumerate(order.lines)
                ],
            )

    def save(self, order: Order) -> None:
        # lines never change after an order is placed: only its status does
        self.conn.execute("UPDATE orders SET status = %s WHERE order_id = %s", (order.status, order.order_id))


class PostgresUnitOfWork:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.conn: psycopg.Connection | None = None

    def __enter__(self) -> Self:
        self.conn = psycopg.connect(self.database_url)  # autocommit off: the first statement opens a transaction
        self.products = PostgresProductRepository(self.conn)
        self.orders = PostgresOrderRepository(self.conn)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self.conn is not None
        try:
            self.conn.rollback()  # after a commit there is nothing left to discard
        finally:
            self.conn.close()
            self.conn = None

    def commit(self) -> None:
        assert self.conn is not None
        self.conn.commit()

    def rollback(self) -> None:
        assert self.conn is not None
        self.conn.rollback()
