from models import Adjustment, Order, Quote

from rules._base import GOLD, FunctionRule, goods

PLANS = {GOLD: (10000, 10), "silver": (20000, 5)}


def membership(order: Order, quote: Quote) -> list[Adjustment]:
    floor, percent = PLANS.get(order.tier, (None, 0))
    base = goods(order, quote)
    if floor is None or base < floor:
        return []
    return [Adjustment(f"{order.tier} member", -(base * percent // 100))]


RULE = FunctionRule(200, membership)
