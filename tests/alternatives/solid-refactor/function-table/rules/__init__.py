"""Rules are found, not registered: every rules/*.py not starting with "_" that has a RULE."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from models import Adjustment, Order, Quote

FOLDER = Path(__file__).parent


class Rule(Protocol):
    priority: int

    def apply(self, order: Order, quote: Quote) -> Iterable[Adjustment]: ...


def _rule_of(name: str) -> Rule | None:
    return getattr(importlib.import_module(f"rules.{name}"), "RULE", None)


def _rule_names() -> list[str]:
    return sorted(path.stem for path in FOLDER.glob("*.py") if not path.stem.startswith("_"))


def load() -> list[Rule]:
    names = _rule_names()
    found = [(rule, name) for rule, name in zip(map(_rule_of, names), names, strict=True) if rule is not None]
    return [rule for rule, _ in sorted(found, key=lambda item: (item[0].priority, item[1]))]
