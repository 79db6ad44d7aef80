"""Comparing quotes: the first order whose quote differs, where it differs, and which rule of the README to read."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from labkit.checks import fail

# The start of an adjustment's label -> the rule that makes it, as the README names it.
RULE_OF_LABEL = {
    "3 for 2": "3 for 2 (rules/multibuy.py, priority 110): socks only, -(quantity // 3) × unit_cents",
    "bulk": "bulk (rules/bulk.py, 120): 5 % from 10 units, 10 % from 50, rounded down; never socks or gift cards",
    "clearance": "clearance (rules/clearance.py, 130): 30 % of the line total, rounded down; none when it is 0",
    "gold member": "membership (rules/tier.py, 200): gold 10 % from a merchandise of 10000",
    "silver member": "membership (rules/tier.py, 200): silver 5 % from a merchandise of 20000",
    "coupon": "coupons (rules/coupons.py, 300): SAVE10 from a total of 5000; TENPERCENT never for gold",
    "small order fee": "the small-order fee (rules/small_order.py, 350): merchandise more than 0 and less than 1500",
    "shipping": "shipping (rules/shipping.py, 400): home free from 5000, eu from 15000, world 150 per unit over 10",
    "grader": "the protocol: every rule module in rules/, by (priority, module name), each seeing the quote so far",
}
ORDER_SHOWN = 600
ORDER_LABEL = "(order)"  # the adjustments are right but come in another order


def show(value: Any, limit: int = ORDER_SHOWN) -> str:
    text = json.dumps(value, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_difference(expected: dict[str, Any], got: Any) -> tuple[str, str | None]:
    """Where ``got`` first departs from ``expected``, and the label of the adjustment whose rule to read, if any."""
    if not isinstance(got, dict) or set(got) != set(expected):
        return "its shape: a dict with subtotal, adjustments and total", None
    if got["subtotal"] != expected["subtotal"]:
        return "the subtotal", None
    wanted, made = expected["adjustments"], got["adjustments"]
    if not isinstance(made, list):
        return "its adjustments, which must be a list of [label, cents]", None
    for index, (want, have) in enumerate(zip(wanted, made, strict=False)):
        if want != have:
            return f"adjustment {index + 1} ({show(want)} expected, {show(have)} made)", _culprit(
                want, have, wanted, made
            )
    if len(wanted) > len(made):
        return f"adjustment {len(made) + 1}, {show(wanted[len(made)])}, missing", str(wanted[len(made)][0])
    if len(made) > len(wanted):
        extra = made[len(wanted)]
        label = str(extra[0]) if isinstance(extra, list) and extra and isinstance(extra[0], str) else None
        return f"adjustment {len(wanted) + 1}, {show(extra)}, not expected", label
    return "the total", None


def _culprit(want: list[Any], have: Any, wanted: list[list[Any]], made: list[Any]) -> str | None:
    """The label whose rule to read: the expected one when its amount differs or it was not made at all, the one
    made when it is not expected at all; when both are there, in another order, the priorities are to check."""
    made_label = have[0] if isinstance(have, list) and have and isinstance(have[0], str) else None
    made_labels = {item[0] for item in made if isinstance(item, list) and item and isinstance(item[0], str)}
    if made_label == want[0] or want[0] not in made_labels:
        return str(want[0])
    if made_label is not None and made_label not in {label for label, _ in wanted}:
        return made_label
    return ORDER_LABEL


def _rule_of(label: str) -> str | None:
    return next((rule for start, rule in RULE_OF_LABEL.items() if label.startswith(start)), None)


def hint_for(label: str | None, fallback: str) -> str:
    if label == ORDER_LABEL:
        return "the rules run by priority, then module name: check each rule's priority against the README's table"
    rule = _rule_of(label) if label is not None else None
    if rule is None:
        return fallback
    return f"read {rule}" if label is not None and label.startswith("grader") else f"read the README's rule: {rule}"


def expect_same_quotes(
    orders: Sequence[Any],
    got: Any,
    expected: Sequence[dict[str, Any]],
    *,
    source: str,
    where: str,
    hint: str,
    rule_hints: bool = True,
) -> None:
    """``got`` (what the learner's code answered) must equal ``expected`` (``source``'s quotes), order by order;
    a difference is explained by the rule that makes the adjustment concerned unless ``rule_hints`` is off."""
    if not isinstance(got, list) or len(got) != len(orders):
        size = len(got) if isinstance(got, list) else type(got).__name__
        fail(f"quote_many() on {where} returned {size} for {len(orders)} orders: one quote per order, in order")
    for number, (order, want, have) in enumerate(zip(orders, expected, got, strict=True)):
        if want != have:
            at, label = first_difference(want, have)
            fail(
                f"on {where}, order #{number + 1} of {len(orders)} is quoted differently from {source}, "
                f"at {at}\n  the order: {show(order)}",
                expected=show(want),
                got=show(have),
                hint=hint_for(label, hint) if rule_hints else hint,
            )
