"""Checkout pricing: a quote is the subtotal, then the adjustments of every rule in rules/, in priority order.

This module names no rule: a new rule is a new module in rules/ (see rules/__init__.py)."""

from __future__ import annotations

from functools import cache
from typing import Any

import rules
from models import Line, Order, Quote


@cache
def _rules() -> tuple[rules.Rule, ...]:
    return tuple(rules.discover())


def price(order: Order) -> Quote:
    quote = Quote(sum(line.unit_cents * line.quantity for line in order.lines))
    for rule in _rules():
        quote = Quote(quote.subtotal, quote.adjustments + tuple(rule.apply(order, quote)))
    return quote


def _order_from(payload: dict[str, Any]) -> Order:
    """An order from its JSON payload.

    A missing tier, zone or coupon takes the default of Order."""
    lines = []
    for line in payload["lines"]:
        sku = str(line["sku"])
        category = str(line["category"])
        unit_cents = int(line["unit_cents"])
        quantity = int(line["quantity"])
        parsed = Line(
            sku=sku,
            category=category,
            unit_cents=unit_cents,
            quantity=quantity,
        )
        lines.append(parsed)
    defaults = Order(())
    tier = payload.get("tier", defaults.tier)
    zone = payload.get("zone", defaults.zone)
    coupon = payload.get("coupon", defaults.coupon)
    return Order(tuple(lines), tier, zone, coupon)


def _payload_of(quote: Quote) -> dict[str, Any]:
    adjustments = [[adjustment.label, adjustment.cents] for adjustment in quote.adjustments]
    return {"subtotal": quote.subtotal, "adjustments": adjustments, "total": quote.total}


def quote(payload: dict[str, Any]) -> dict[str, Any]:
    """The web shop's entry point: an order as JSON in, its quote as JSON out."""
    return _payload_of(price(_order_from(payload)))


def quote_many(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nightly repricing job: many orders at once."""
    return [quote(p) for p in payloads]
