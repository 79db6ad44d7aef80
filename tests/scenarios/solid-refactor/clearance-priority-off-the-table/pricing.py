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
    lines = tuple(
        Line(str(line["sku"]), str(line["category"]), int(line["unit_cents"]), int(line["quantity"]))
        for line in payload["lines"]
    )
    optional = {key: payload[key] for key in ("tier", "zone", "coupon") if key in payload}  # else Order's defaults
    return Order(lines, **optional)


def _payload_of(quote: Quote) -> dict[str, Any]:
    adjustments = [[adjustment.label, adjustment.cents] for adjustment in quote.adjustments]
    return {"subtotal": quote.subtotal, "adjustments": adjustments, "total": quote.total}


def quote(payload: dict[str, Any]) -> dict[str, Any]:
    """The web shop's entry point: an order as JSON in, its quote as JSON out."""
    return _payload_of(price(_order_from(payload)))


def quote_many(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nightly repricing job: many orders at once."""
    return [quote(p) for p in payloads]
