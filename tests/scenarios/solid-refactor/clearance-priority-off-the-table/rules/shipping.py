"""Shipping: flat fees with a free threshold at home and in the EU, a fee per unit to the rest of the world."""

from __future__ import annotations

from models import Adjustment, Order, Quote

from rules._shop import coupon_code, merchandise, shipped_units

FLAT = {"home": (495, 5000), "eu": (1295, 15000)}  # zone: (fee, free from this merchandise)
WORLD_FEE, WORLD_UNITS_INCLUDED, WORLD_PER_UNIT = 2495, 10, 150


def fee(order: Order, quote: Quote, units: int) -> int:
    if order.zone not in FLAT:
        return WORLD_FEE + WORLD_PER_UNIT * max(0, units - WORLD_UNITS_INCLUDED)
    flat, free_from = FLAT[order.zone]
    free = merchandise(order, quote) >= free_from or coupon_code(order) == "FREESHIP"
    return 0 if free else flat


class Shipping:
    priority = 400

    def apply(self, order: Order, quote: Quote) -> list[Adjustment]:
        units = shipped_units(order)
        cents = fee(order, quote, units) if units else 0
        return [Adjustment("shipping", cents)] if cents > 0 else []


RULE = Shipping()
