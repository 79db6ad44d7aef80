"""3 for 2 on socks: every third unit of a line is free."""

from __future__ import annotations

from models import Adjustment, Order, Quote

from rules._shop import SOCKS


class ThreeForTwo:
    priority = 110

    def apply(self, order: Order, quote: Quote) -> list[Adjustment]:
        return [
            Adjustment(f"3 for 2: {line.sku}", -(line.quantity // 3) * line.unit_cents)
            for line in order.lines
            if line.category == SOCKS and line.quantity >= 3
        ]


RULE = ThreeForTwo()
