"""A rule made of a function: the protocol asks for a priority and an apply, nothing more."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from models import Adjustment, Line, Order, Quote

Apply = Callable[[Order, Quote], Iterable[Adjustment]]
GIFT_CARD, SOCKS, GOLD = "gift-card", "socks", "gold"


@dataclass(frozen=True)
class FunctionRule:
    priority: int
    apply: Apply


def per_line(label: str, discount: Callable[[Line], int]) -> Apply:
    """A rule that may discount each line, labelled "<label>: <sku>", skipping discounts of 0."""

    def apply(order: Order, quote: Quote) -> list[Adjustment]:
        found = [(line.sku, discount(line)) for line in order.lines]
        return [Adjustment(f"{label}: {sku}", -cents) for sku, cents in found if cents > 0]

    return apply


def goods(order: Order, quote: Quote) -> int:
    gift_cards = sum(line.unit_cents * line.quantity for line in order.lines if line.category == GIFT_CARD)
    return quote.total - gift_cards


def code(order: Order) -> str:
    return order.coupon.strip().upper()
