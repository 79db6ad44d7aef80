"""The order aggregate does its own stock arithmetic; products guard their invariants on construction."""

from dataclasses import dataclass, field

from shop.domain import rules
from shop.domain.errors import AlreadyCancelled, InvalidInput, OutOfStock


@dataclass
class Product:
    sku: str
    name: str
    price_cents: int
    stock: int

    @classmethod
    def new(cls, sku, name, price_cents, stock):
        return cls(
            rules.sku(sku),
            rules.name(name),
            rules.bounded_int(price_cents, 1, 10_000_000, "price_cents"),
            rules.bounded_int(stock, 0, 1_000_000, "stock"),
        )


@dataclass
class OrderLine:
    sku: str
    quantity: int
    unit_price_cents: int


@dataclass
class Order:
    order_id: str
    lines: list = field(default_factory=list)
    status: str = "placed"

    @staticmethod
    def requested(lines):
        """The (sku, quantity) pairs of a request, or InvalidInput."""
        if not isinstance(lines, list) or not (1 <= len(lines) <= 20):
            raise InvalidInput("lines: a list of 1 to 20")
        pairs = []
        for line in lines:
            if not isinstance(line, dict) or sorted(line) != ["quantity", "sku"]:
                raise InvalidInput("line: exactly sku and quantity")
            pairs.append((rules.sku(line["sku"]), rules.bounded_int(line["quantity"], 1, 1000, "quantity")))
        if len({sku for sku, _ in pairs}) < len(pairs):
            raise InvalidInput("lines: a sku twice")
        return pairs

    @classmethod
    def place(cls, order_id, products, pairs):
        short = [(p, q) for p, (_, q) in zip(products, pairs, strict=True) if q > p.stock]
        if short:
            product, quantity = short[0]
            raise OutOfStock(f"{product.sku}: {quantity} asked, {product.stock} in stock")
        order = cls(order_id)
        for product, (_, quantity) in zip(products, pairs, strict=True):
            product.stock -= quantity
            order.lines.append(OrderLine(product.sku, quantity, product.price_cents))
        return order

    def cancel(self, products):
        if self.status != "placed":
            raise AlreadyCancelled(self.order_id)
        self.status = "cancelled"
        by_sku = {p.sku: p for p in products}
        for line in self.lines:
            by_sku[line.sku].stock += line.quantity

    def as_dict(self):
        return {
            "order_id": self.order_id,
            "status": self.status,
            "lines": [vars(line).copy() for line in self.lines],
            "total_cents": sum(line.quantity * line.unit_price_cents for line in self.lines),
        }
