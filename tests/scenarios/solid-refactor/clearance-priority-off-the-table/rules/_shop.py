"""Names and measures several rules share, written once."""

from __future__ import annotations

from models import Line, Order, Quote

GIFT_CARD = "gift-card"  # never discounted, never shipped
SOCKS = "socks"  # 3 for 2 instead of bulk
GOLD = "gold"  # a membership that excludes the TENPERCENT coupon


def line_total(line: Line) -> int:
    return line.unit_cents * line.quantity


def merchandise(order: Order, quote: Quote) -> int:
    """The quote's total so far without the gift cards."""
    return quote.total - sum(line_total(line) for line in order.lines if line.category == GIFT_CARD)


def shipped_units(order: Order) -> int:
    return sum(line.quantity for line in order.lines if line.category != GIFT_CARD)


def coupon_code(order: Order) -> str:
    return order.coupon.strip().upper()


def percent_of(cents: int, percent: int) -> int:
    """Rounded down to a cent."""
    return cents * percent // 100
