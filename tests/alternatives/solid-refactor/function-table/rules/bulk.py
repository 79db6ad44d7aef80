import bisect

from models import Line

from rules._base import GIFT_CARD, SOCKS, FunctionRule, per_line

QUANTITIES, PERCENTS = (10, 50), (0, 5, 10)  # below 10, from 10, from 50


def bulk_discount(line: Line) -> int:
    if line.category in {SOCKS, GIFT_CARD}:
        return 0
    return line.unit_cents * line.quantity * PERCENTS[bisect.bisect_right(QUANTITIES, line.quantity)] // 100


RULE = FunctionRule(120, per_line("bulk", bulk_discount))
