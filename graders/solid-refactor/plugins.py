"""The grader's own rule modules, dropped into a copy of the learner's rules/, each with its model for the oracle.

They follow the README's protocol and nothing else: no base class, no registration, only ``models`` imported."""

from __future__ import annotations

from dataclasses import dataclass

import pricing_model as model

ROUNDING = """\
from models import Adjustment


class _Rounding:
    priority = 900

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
    priority = 150

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


ROUNDING_LAST = Plugin("grader_rounding", ROUNDING, model.Rule("grader_rounding", 900, rounding))
LOYALTY_MIDDLE = Plugin("grader_loyalty", LOYALTY, model.Rule("grader_loyalty", 250, loyalty))
# Written zz_last first, so a discovery that keeps the file system's order (creation order, often) shows.
TIED = (
    Plugin("zz_last", MARKER.format(name="last", cents=-2), model.Rule("zz_last", 150, marker("last", -2))),
    Plugin("aa_first", MARKER.format(name="first", cents=-1), model.Rule("aa_first", 150, marker("first", -1))),
)
