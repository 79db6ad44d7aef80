"""Coupons that discount the order. FREESHIP is shipping's to read."""

from __future__ import annotations

from collections.abc import Callable

from models import Adjustment, Order, Quote

from rules._shop import GOLD, coupon_code, merchandise, percent_of


def save_ten(order: Order, quote: Quote) -> list[Adjustment]:
    return [Adjustment("coupon SAVE10", -1000)] if quote.total >= 5000 else []


def ten_percent(order: Order, quote: Quote) -> list[Adjustment]:
    cents = percent_of(merchandise(order, quote), 10)
    return [Adjustment("coupon TENPERCENT", -cents)] if order.tier != GOLD and cents > 0 else []


COUPONS: dict[str, Callable[[Order, Quote], list[Adjustment]]] = {"SAVE10": save_ten, "TENPERCENT": ten_percent}


class Coupons:
    priority = 300

    def apply(self, order: Order, quote: Quote) -> list[Adjustment]:
        coupon = COUPONS.get(coupon_code(order))
        return coupon(order, quote) if coupon else []


RULE = Coupons()
