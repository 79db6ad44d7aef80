"""Membership discounts on the merchandise, from a floor that depends on the tier."""

from __future__ import annotations

from models import Adjustment, Order, Quote

from rules._shop import GOLD, merchandise, percent_of

DISCOUNTS = {GOLD: (10000, 10), "silver": (20000, 5)}  # tier: (from this merchandise, this percent)


class Membership:
    priority = 200

    def apply(self, order: Order, quote: Quote) -> list[Adjustment]:
        if order.tier not in DISCOUNTS:
            return []
        floor, percent = DISCOUNTS[order.tier]
        base = merchandise(order, quote)
        return [Adjustment(f"{order.tier} member", -percent_of(base, percent))] if base >= floor else []


RULE = Membership()
