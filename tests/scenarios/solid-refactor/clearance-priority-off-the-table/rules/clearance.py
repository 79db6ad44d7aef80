"""Clearance lines: 30 % off, on top of any bulk discount."""

from __future__ import annotations

from models import Adjustment, Order, Quote

from rules._shop import line_total, percent_of

CATEGORY = "clearance"
PERCENT = 30


class Clearance:
    priority = 131

    def apply(self, order: Order, quote: Quote) -> list[Adjustment]:
        found = []
        for line in order.lines:
            cents = percent_of(line_total(line), PERCENT)
            if line.category == CATEGORY and cents > 0:
                found.append(Adjustment(f"clearance: {line.sku}", -cents))
        return found


RULE = Clearance()
