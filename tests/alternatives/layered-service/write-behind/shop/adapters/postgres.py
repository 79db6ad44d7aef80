"""Write-behind unit of work: reads go to PostgreSQL at once, writes wait in a list and are flushed in one
transaction by commit(); leaving the block unflushed simply forgets them."""

import psycopg

from shop.domain.model import Order, OrderLine, Product
from shop.service_layer.unit_of_work import AbstractUnitOfWork

DDL = [
    "CREATE TABLE IF NOT EXISTS products (sku text PRIMARY KEY, name text NOT NULL,"
    " price_cents integer NOT NULL, stock integer NOT NULL)",
    "CREATE TABLE IF NOT EXISTS orders (order_id text PRIMARY KEY, status text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS order_lines (order_id text NOT NULL REFERENCES orders, position integer NOT NULL,"
    " sku text NOT NULL REFERENCES products, quantity integer NOT NULL, unit_price_cents integer NOT NULL,"
    " PRIMARY KEY (order_id, position))",
]


def create_schema(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        for statement in DDL:
            conn.execute(statement)


class _Repository:
    def __init__(self, uow):
        self.uow = uow
        self.seen = {}

    def get(self, key):
        if key not in self.seen:
            self.seen[key] = self._load(key)
        return self.seen[key]

    def add(self, item):
        self.seen[self._key(item)] = item
        self.uow.pending.append((self._insert, item))

    def save(self, item):
        self.seen[self._key(item)] = item
        self.uow.pending.append((self._update, item))


class Products(_Repository):
    def _key(self, product):
        return product.sku

    def _load(self, sku):
        row = self.uow.conn.execute(
            "select sku, name, price_cents, stock from products where sku = %s", [sku]
        ).fetchone()
        return Product(*row) if row else None

    def _insert(self, cur, p):
        cur.execute("insert into products values (%s, %s, %s, %s)", [p.sku, p.name, p.price_cents, p.stock])

    def _update(self, cur, p):
        cur.execute(
            "update products set name = %s, price_cents = %s, stock = %s where sku = %s",
            [p.name, p.price_cents, p.stock, p.sku],
        )


class Orders(_Repository):
    def _key(self, order):
        return order.order_id

    def _load(self, order_id):
        head = self.uow.conn.execute("select status from orders where order_id = %s", [order_id]).fetchone()
        if not head:
            return None
        rows = self.uow.conn.execute(
            "select sku, quantity, unit_price_cents from order_lines where order_id = %s order by position", [order_id]
        ).fetchall()
        return Order(order_id, [OrderLine(*row) for row in rows], head[0])

    def _insert(self, cur, order):
        cur.execute("insert into orders values (%s, %s)", [order.order_id, order.status])
        for position, line in enumerate(order.lines):
            cur.execute(
                "insert into order_lines (order_id, position, sku, quantity, unit_price_cents)"
                " values (%s, %s, %s, %s, %s)",
                [order.order_id, position, line.sku, line.quantity, line.unit_price_cents],
            )

    def _update(self, cur, order):
        cur.execute("update orders set status = %s where order_id = %s", [order.status, order.order_id])


class PostgresUnitOfWork(AbstractUnitOfWork):
    def __init__(self, database_url):
        self.database_url = database_url
        self.conn = None

    def __enter__(self):
        self.conn = psycopg.connect(self.database_url, autocommit=True)
        self.pending = []
        self.products = Products(self)
        self.orders = Orders(self)
        return self

    def __exit__(self, *exc_info):
        super().__exit__(*exc_info)
        self.conn.close()

    def commit(self):
        # products first: an order's lines refer to them
        ordered = sorted(self.pending, key=lambda write: isinstance(write[1], Order))
        with self.conn.transaction(), self.conn.cursor() as cur:
            for write, item in ordered:
                write(cur, item)
        self.pending = []

    def rollback(self):
        self.pending = []
