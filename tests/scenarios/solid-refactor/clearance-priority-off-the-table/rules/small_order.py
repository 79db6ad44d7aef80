"""A fee for small orders."""

from __future__ import annotations

from models import Adjustment, Order, Quote

from rules._shop import merchandise

FEE, UNDER = 199, 1500


class SmallOrderFee:
    priority = 350

    def apply(self, order: Order, quote: Quote) -> list[Adjustment]:
        return [Adjustment("small order fee", FEE)] if 0 < merchandise(order, quote) < UNDER else []


RULE = SmallOrderFee()
