from models import Adjustment, Order, Quote

from rules._base import GOLD, FunctionRule, code, goods


def coupon(order: Order, quote: Quote) -> list[Adjustment]:
    match code(order):
        case "SAVE10" if quote.total >= 5000:
            return [Adjustment("coupon SAVE10", -1000)]
        case "TENPERCENT" if order.tier != GOLD and goods(order, quote) >= 10:
            return [Adjustment("coupon TENPERCENT", -(goods(order, quote) // 10))]
    return []


RULE = FunctionRule(300, coupon)
