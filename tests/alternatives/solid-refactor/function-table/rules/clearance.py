from models import Line

from rules._base import FunctionRule, per_line


def clearance_discount(line: Line) -> int:
    return line.unit_cents * line.quantity * 3 // 10 if line.category == "clearance" else 0


RULE = FunctionRule(130, per_line("clearance", clearance_discount))
