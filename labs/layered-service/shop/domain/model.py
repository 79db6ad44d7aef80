"""Products and orders, and the rules that change them. Plain Python only: no database, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Product:
    sku: str
    name: str
    price_cents: int
    stock: int

    # TODO: the stock rules (taking a quantity from stock, giving it back) belong here or in the service layer.


@dataclass
class OrderLine:
    sku: str
    quantity: int
    unit_price_cents: int


@dataclass
class Order:
    order_id: str
    lines: list[OrderLine] = field(default_factory=list)
    status: str = "placed"  # or "cancelled"
