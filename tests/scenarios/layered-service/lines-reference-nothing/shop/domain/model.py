"""Products and orders, and the rules that change them."""

from __future__ import annotations

from dataclasses import dataclass, field

from shop.domain.errors import AlreadyCancelled, OutOfStock

PLACED, CANCELLED = "placed", "cancelled"


@dataclass
class Product:
    sku: str
    name: str
    price_cents: int
    stock: int

    def reserve(self, quantity: int) -> None:
        if quantity > self.stock:
            raise OutOfStock(f"{self.sku}: {quantity} asked, {self.stock} in stock")
        self.stock -= quantity

    def release(self, quantity: int) -> None:
        self.stock += quantity


@dataclass
class OrderLine:
    sku: str
    quantity: int
    unit_price_cents: int


@dataclass
class Order:
    order_id: str
    lines: list[OrderLine] = field(default_factory=list)
    status: str = PLACED

    @property
    def total_cents(self) -> int:
        return sum(line.quantity * line.unit_price_cents for line in self.lines)

    def cancel(self) -> None:
        if self.status == CANCELLED:
            raise AlreadyCancelled(f"order {self.order_id} is already cancelled")
        self.status = CANCELLED
