from models import Line

from rules._base import SOCKS, FunctionRule, per_line


def free_units(line: Line) -> int:
    return (line.quantity // 3) * line.unit_cents if line.category == SOCKS else 0


RULE = FunctionRule(110, per_line("3 for 2", free_units))
