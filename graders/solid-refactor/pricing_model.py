"""The README's pricing rules as plain functions: the grader's oracle where the legacy code cannot answer (one rule
alone, a rule the grader adds, clearance). The kit's tests hold it equal to the legacy code on every order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Payload = Mapping[str, Any]
Adjustments = list[tuple[str, int]]
GIFT_CARD = "gift-card"


@dataclass(frozen=True)
class Draft:
    """A quote so far: what a rule sees."""

    subtotal: int
    adjustments: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return self.subtotal + sum(cents for _, cents in self.adjustments)


def lines(order: Payload) -> list[Payload]:
    return list(order["lines"])


def line_total(line: Payload) -> int:
    return int(line["unit_cents"]) * int(line["quantity"])


def coupon(order: Payload) -> str:
    return str(order.get("coupon", "")).strip().upper()


def merchandise(order: Payload, draft: Draft) -> int:
    """The quote's total so far without the gift cards, which no rule discounts."""
    return draft.total - sum(line_total(line) for line in lines(order) if line["category"] == GIFT_CARD)


def multibuy(order: Payload, draft: Draft) -> Adjustments:
    return [
        (f"3 for 2: {line['sku']}", -(line["quantity"] // 3) * line["unit_cents"])
        for line in lines(order)
        if line["category"] == "socks" and line["quantity"] >= 3
    ]


def bulk(order: Payload, draft: Draft) -> Adjustments:
    found = []
    for line in lines(order):
        percent = 10 if line["quantity"] >= 50 else 5 if line["quantity"] >= 10 else 0
        cents = line_total(line) * percent // 100
        if line["category"] not in ("socks", GIFT_CARD) and cents > 0:
            found.append((f"bulk: {line['sku']}", -cents))
    return found


def clearance(order: Payload, draft: Draft) -> Adjustments:
    return [
        (f"clearance: {line['sku']}", -(line_total(line) * 30 // 100))
        for line in lines(order)
        if line["category"] == "clearance" and line_total(line) * 30 // 100 > 0
    ]


def tier(order: Payload, draft: Draft) -> Adjustments:
    floor, percent = {"gold": (10000, 10), "silver": (20000, 5)}.get(order.get("tier", "regular"), (0, 0))
    base = merchandise(order, draft)
    if percent and base >= floor:
        return [(f"{order['tier']} member", -(base * percent // 100))]
    return []


def coupons(order: Payload, draft: Draft) -> Adjustments:
    code = coupon(order)
    if code == "SAVE10" and draft.total >= 5000:
        return [("coupon SAVE10", -1000)]
    cents = merchandise(order, draft) * 10 // 100
    if code == "TENPERCENT" and order.get("tier", "regular") != "gold" and cents > 0:
        return [("coupon TENPERCENT", -cents)]
    return []


def small_order(order: Payload, draft: Draft) -> Adjustments:
    return [("small order fee", 199)] if 0 < merchandise(order, draft) < 1500 else []


def shipping(order: Payload, draft: Draft) -> Adjustments:
    units = sum(int(line["quantity"]) for line in lines(order) if line["category"] != GIFT_CARD)
    zone, base = order.get("zone", "home"), merchandise(order, draft)
    if units == 0:
        return []
    if zone in ("home", "eu"):
        free_from, fee = (5000, 495) if zone == "home" else (15000, 1295)
        free = base >= free_from or coupon(order) == "FREESHIP"
        return [] if free else [("shipping", fee)]
    return [("shipping", 2495 + 150 * max(0, units - 10))]


RuleFunction = Callable[[Payload, Draft], Adjustments]


@dataclass(frozen=True)
class Rule:
    module: str  # its file in rules/, without .py
    priority: int
    apply: RuleFunction


LEGACY_RULES = (
    Rule("multibuy", 110, multibuy),
    Rule("bulk", 120, bulk),
    Rule("tier", 200, tier),
    Rule("coupons", 300, coupons),
    Rule("small_order", 350, small_order),
    Rule("shipping", 400, shipping),
)
CLEARANCE = Rule("clearance", 130, clearance)
ALL_RULES = (*LEGACY_RULES, CLEARANCE)


def quote(order: Payload, rules: Iterable[Rule]) -> dict[str, Any]:
    """The quote ``rules`` give ``order``, applied by priority and then by module name, as the README says."""
    draft = Draft(sum(line_total(line) for line in lines(order)), ())
    for rule in sorted(rules, key=lambda rule: (rule.priority, rule.module)):
        draft = Draft(draft.subtotal, draft.adjustments + tuple(rule.apply(order, draft)))
    return {
        "subtotal": draft.subtotal,
        "adjustments": [[label, cents] for label, cents in draft.adjustments],
        "total": draft.total,
    }
