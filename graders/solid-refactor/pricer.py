"""The grader's hands on pricing code: driver processes importing ``pricing`` from the learner's folder, a copy of
it, or the kit's pristine legacy code. Nothing here imports pricing code into the grader's own process."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from copies import described, prepared_copy
from labkit.checks import CheckFailed, log
from labkit.driver import Driver

CALL_TIMEOUT_S = 10.0


def copy_hint(error: CheckFailed) -> str | None:
    """What to look at when the learner's code fails on a prepared copy: an import of a module the copy lacks,
    most often."""
    if "ModuleNotFoundError" in error.message or "ImportError" in error.message:
        return (
            "a rule module may import models and your _ helpers, never another rule module, and nothing may "
            "import a rule module by name: the discovery in rules/ must work with any set of rule modules"
        )
    return error.hint


class Pricer:
    def __init__(self, start_driver: Callable[..., Driver], impl: Path, legacy: Path, scratch: Path) -> None:
        self._start = start_driver
        self.impl = impl
        self._legacy = legacy
        self._scratch = scratch

    def legacy(self, orders: Sequence[Any]) -> list[dict[str, Any]]:
        """The legacy code's quotes, computed afresh in a process of its own."""
        quotes: list[dict[str, Any]] = self._start(impl=self._legacy).call(
            "quote_many", list(orders), timeout=CALL_TIMEOUT_S, quiet=True
        )
        log(f"the pristine legacy code quoted {len(orders)} orders")
        return quotes

    def learner(
        self, orders: Sequence[Any], *, keep: Collection[str] | None = None, add: Mapping[str, str] | None = None
    ) -> Any:
        """The learner's ``quote_many(orders)``, on their folder or, with ``keep``/``add``, on a prepared copy."""
        where = described(keep, add)
        folder = (
            self.impl if keep is None and add is None else prepared_copy(self.impl, self._scratch, keep=keep, add=add)
        )
        try:
            quotes = self._start(impl=folder).call("quote_many", list(orders), timeout=CALL_TIMEOUT_S, quiet=True)
        except CheckFailed as error:
            if folder == self.impl:
                raise
            raise CheckFailed(f"on {where}: {error.message}", got=error.got, hint=copy_hint(error)) from error
        log(f"your quote_many() quoted {len(orders)} orders on {where}")
        return quotes

    def one_by_one(self, orders: Sequence[Any]) -> list[Any]:
        """The learner's ``quote(order)``, one call per order, in one process."""
        driver = self._start()
        quotes = [driver.call("quote", order, timeout=CALL_TIMEOUT_S, quiet=True) for order in orders]
        log(f"your quote() quoted {len(orders)} orders, one call each")
        return quotes
