from collections.abc import Callable

from models import Adjustment, Order, Quote

from rules._base import GIFT_CARD, FunctionRule, code, goods


def world(units: int, order: Order, quote: Quote) -> int:
    return 2495 + 150 * max(0, units - 10)


Charge = Callable[[int, Order, Quote], int]


def flat(fee: int, free_from: int) -> Charge:
    def charge(units: int, order: Order, quote: Quote) -> int:
        return 0 if goods(order, quote) >= free_from or code(order) == "FREESHIP" else fee

    return charge


ZONES: dict[str, Charge] = {"home": flat(495, 5000), "eu": flat(1295, 15000)}


def shipping(order: Order, quote: Quote) -> list[Adjustment]:
    units = sum(line.quantity for line in order.lines if line.category != GIFT_CARD)
    fee = ZONES.get(order.zone, world)(units, order, quote) if units else 0
    return [Adjustment("shipping", fee)] if fee else []


RULE = FunctionRule(400, shipping)
