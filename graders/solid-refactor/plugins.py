"""The grader's own rule modules, dropped into a copy of the learner's rules/, each with its model for the oracle.

They follow the README's protocol and nothing else: no base class, no registration, only ``models`` imported."""

from __future__ import annotations

from dataclasses import dataclass

import pricing_model as model

ROUNDING = """\
from models import Adjustment


class _Rounding:
    priority = {priority}

    def apply(self, order, quote):
        cents = quote.total % 100
        return (Adjustment("grader rounding", -cents),) if cents else ()


RULE = _Rounding()
"""

LOYALTY = """\
from models import Adjustment


class _Loyalty:
    priority = 250

    def apply(self, order, quote):
        gift_cards = sum(line.unit_cents * line.quantity for line in order.lines if line.category == "gift-card")
        return [Adjustment("grader loyalty", -300)] if quote.total - gift_cards >= 3000 else []


RULE = _Loyalty()
"""

MARKER = """\
from models import Adjustment


class _Marker:
    priority = {priority}

    def apply(self, order, quote):
        if order.lines:
            yield Adjustment("grader {name}", {cents})


RULE = _Marker()
"""


def rounding(order: model.Payload, draft: model.Draft) -> model.Adjustments:
    cents = draft.total % 100
    return [("grader rounding", -cents)] if cents else []


def loyalty(order: model.Payload, draft: model.Draft) -> model.Adjustments:
    return [("grader loyalty", -300)] if model.merchandise(order, draft) >= 3000 else []


def marker(name: str, cents: int) -> model.RuleFunction:
    def apply(order: model.Payload, draft: model.Draft) -> model.Adjustments:
        return [(f"grader {name}", cents)] if order["lines"] else []

    return apply


@dataclass(frozen=True)
class Plugin:
    module: str
    source: str
    rule: model.Rule


def marker_plugin(module: str, name: str, priority: int, cents: int) -> Plugin:
    source = MARKER.format(name=name, priority=priority, cents=cents)
    return Plugin(module, source, model.Rule(module, priority, marker(name, cents)))


def rounding_plugin(module: str, priority: int) -> Plugin:
    return Plugin(module, ROUNDING.format(priority=priority), model.Rule(module, priority, rounding))


ROUNDING_LAST = rounding_plugin("grader_rounding", 900)
LOYALTY_MIDDLE = Plugin("grader_loyalty", LOYALTY, model.Rule("grader_loyalty", 250, loyalty))
# Written zz_last first, so a discovery that keeps the file system's order (creation order, often) shows.
TIED = (marker_plugin("zz_last", "last", 150, -2), marker_plugin("aa_first", "first", 150, -1))
# Priorities are numbers: 5 runs before 110 and 1000 after 400, which text order ("1000" < "110" < "5") turns round.
WIDE_PRIORITIES = (marker_plugin("grader_early", "early", 5, -3), rounding_plugin("grader_late", 1000))
# A module whose name starts with "_" is a helper, never a rule, even when it defines RULE.
HELPER_WITH_RULE = marker_plugin("_grader_helper", "helper", 150, -4)


def around_priority(priority: int) -> tuple[Plugin, Plugin]:
    """Two rules at exactly ``priority``, named to sort before and after every rule module of the README: the
    table's rule of that priority must run between them, so its priority is exactly the table's."""
    return (
        marker_plugin(f"aa_at_{priority}", f"before {priority}", priority, -1),
        marker_plugin(f"zz_at_{priority}", f"after {priority}", priority, -1),
    )
