"""The pricing rules: the protocol every rule follows, and their discovery.

A rule module is a module of this package whose name does not start with "_" and that defines ``RULE``. Rules run
by priority, then by module name; each one sees the quote so far and returns the adjustments to append."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from typing import Protocol

from models import Adjustment, Order, Quote


class Rule(Protocol):
    priority: int

    def apply(self, order: Order, quote: Quote) -> Iterable[Adjustment]: ...


def _rule_modules() -> list[str]:
    names = (module.name for module in pkgutil.iter_modules(__path__) if not module.ispkg)
    return [name for name in names if not name.startswith("_")]


def discover() -> list[Rule]:
    """Every rule module of this package, imported now, sorted by (priority, module name)."""
    found: list[tuple[int, str, Rule]] = []
    for name in _rule_modules():
        rule = getattr(importlib.import_module(f"{__name__}.{name}"), "RULE", None)
        if rule is not None:
            found.append((rule.priority, name, rule))
    return [rule for _, _, rule in sorted(found, key=lambda entry: entry[:2])]
