"""Checkout pricing as a fold: each discovered rule turns the quote so far into the next one."""

from __future__ import annotations

from dataclasses import fields
from functools import reduce
from typing import Any

from models import Adjustment, Line, Order, Quote
from rules import Rule, load

ORDER_OPTIONS = tuple(field.name for field in fields(Order) if field.name != "lines")


def _step(order: Order) -> Any:
    def apply(quote: Quote, rule: Rule) -> Quote:
        added: tuple[Adjustment, ...] = tuple(rule.apply(order, quote))
        return Quote(quote.subtotal, quote.adjustments + added) if added else quote

    return apply


def price(order: Order) -> Quote:
    start = Quote(sum(line.unit_cents * line.quantity for line in order.lines))
    return reduce(_step(order), load(), start)


def quote(payload: dict[str, Any]) -> dict[str, Any]:
    """The web shop's entry point: an order as JSON in, its quote as JSON out."""
    lines = tuple(Line(str(raw["sku"]), str(raw["category"]), int(raw["unit_cents"]), int(raw["quantity"]))
                  for raw in payload["lines"])  # fmt: skip
    order = Order(lines, **{name: payload[name] for name in ORDER_OPTIONS if name in payload})
    result = price(order)
    return {
        "subtotal": result.subtotal,
        "adjustments": [[item.label, item.cents] for item in result.adjustments],
        "total": result.total,
    }


def quote_many(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nightly repricing job: many orders at once."""
    return list(map(quote, payloads))
