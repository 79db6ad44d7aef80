"""Bulk discounts per line: the more units, the larger the percentage."""

from __future__ import annotations

from collections.abc import Iterator

from models import Adjustment, Line, Order, Quote

from rules._shop import GIFT_CARD, SOCKS, line_total, percent_of

STEPS = ((50, 10), (10, 5))  # (from this quantity, this percent), largest first
NOT_BULK = (SOCKS, GIFT_CARD)


def percent_for(line: Line) -> int:
    return next((percent for quantity, percent in STEPS if line.quantity >= quantity), 0)


class Bulk:
    priority = 120

    def apply(self, order: Order, quote: Quote) -> Iterator[Adjustment]:
        for line in order.lines:
            cents = percent_of(line_total(line), percent_for(line))
            if line.category not in NOT_BULK and cents > 0:
                yield Adjustment(f"bulk: {line.sku}", -cents)


RULE = Bulk()
