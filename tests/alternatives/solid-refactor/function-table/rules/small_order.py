from models import Adjustment, Order, Quote

from rules._base import FunctionRule, goods


def small_order_fee(order: Order, quote: Quote) -> list[Adjustment]:
    return [Adjustment("small order fee", 199)] if goods(order, quote) in range(1, 1500) else []


RULE = FunctionRule(350, small_order_fee)
