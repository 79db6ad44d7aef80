"""Probe run in the learner's process: the learner's use cases on the grader's in-memory unit of work.

No database is reachable: the process has no DATABASE_URL, and importing a database driver fails. The fake
keeps what the README promises a unit of work does (copies out of ``get``, changes staged until ``commit()``,
discarded on leaving ``with``) and counts what the use cases did with it."""

from __future__ import annotations

import copy
import importlib
import importlib.abc
import json
import sys
import traceback
from typing import Any

LAST_ORDER = "$last_order_id"  # in a step's arguments: the order id the last place_order returned
DRIVERS = ("psycopg", "psycopg2", "psycopg_pool", "sqlite3")
WATCHED = ("shop.adapters", "shop.entrypoints", *DRIVERS, "http.server", "socketserver")


class NoDatabase(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] in DRIVERS:
            raise ImportError(f"import {name}: the grader runs your service layer with no database driver")


sys.meta_path.insert(0, NoDatabase())


class UsedOutsideWith(Exception):
    pass


class StorageFailure(Exception):
    """The failure the grader injects into its own repository."""


class FakeRepository:
    def __init__(self, uow: FakeUnitOfWork, name: str, key: str) -> None:
        self.uow, self.name, self.key = uow, name, key
        self.committed: dict[str, Any] = {}
        self.staged: dict[str, Any] = {}
        self.saves = 0

    def _use(self, method: str) -> None:
        if not self.uow.inside:
            self.uow.outside += 1
            raise UsedOutsideWith(f"{self.name}.{method}() was called outside `with uow:`")
        failure = self.uow.failure
        if failure and failure["at"] == f"{self.name}.{method}":
            failure["count"] = failure.get("count", 0) + 1
            if failure["count"] == failure.get("nth", 1):
                raise StorageFailure(f"{self.name}.{method}() failed (a failure the grader injected)")

    def get(self, key: str) -> Any:
        self._use("get")
        found = self.staged.get(key, self.committed.get(key))
        return copy.deepcopy(found)

    def add(self, item: Any) -> None:
        self._use("add")
        key = getattr(item, self.key)
        if key in self.staged or key in self.committed:
            raise StorageFailure(f"{self.name}.add(): {key!r} exists (use save for a changed one)")
        self.staged[key] = copy.deepcopy(item)
        self.uow.writes += 1

    def save(self, item: Any) -> None:
        self._use("save")
        key = getattr(item, self.key)
        if key not in self.staged and key not in self.committed:
            raise StorageFailure(f"{self.name}.save(): {key!r} was never added")
        self.staged[key] = copy.deepcopy(item)
        self.uow.writes += 1


class FakeUnitOfWork:
    def __init__(self, failure: dict[str, Any] | None) -> None:
        self.failure = failure
        self.inside = False
        self.blocks = self.commits = self.writes = self.outside = 0
        self.products = FakeRepository(self, "products", "sku")
        self.orders = FakeRepository(self, "orders", "order_id")

    def __enter__(self) -> FakeUnitOfWork:
        self.inside = True
        self.blocks += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.rollback()
        self.inside = False

    def commit(self) -> None:
        if not self.inside:
            self.outside += 1
            raise UsedOutsideWith("commit() was called outside `with uow:`")
        for repository in (self.products, self.orders):
            repository.committed.update(repository.staged)
            repository.staged.clear()
        self.commits += 1

    def rollback(self) -> None:
        for repository in (self.products, self.orders):
            repository.staged.clear()


def run(preset: list[dict[str, Any]], steps: list[dict[str, Any]], failure: dict[str, Any] | None = None) -> Any:
    """Runs ``steps`` (``{"call": name, "args": [...]}``) one after another on one fake unit of work."""
    try:
        services = importlib.import_module("shop.service_layer.services")
        model = importlib.import_module("shop.domain.model")
    except Exception as error:
        return {"import_error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()[-2000:]}
    uow = FakeUnitOfWork(failure)
    for fields in preset:
        uow.products.committed[fields["sku"]] = model.Product(**fields)
    last_order = [""]
    records = [_step(uow, services, step, last_order) for step in steps]
    return {"steps": records, "state": _state(uow), "loaded": _watched_modules()}


def _step(uow: FakeUnitOfWork, services: Any, step: dict[str, Any], last_order: list[str]) -> dict[str, Any]:
    before = (uow.commits, uow.writes, uow.outside, uow.blocks)
    record: dict[str, Any] = {"call": step["call"]}
    args = [last_order[0] if arg == LAST_ORDER else arg for arg in step["args"]]
    try:
        value = getattr(services, step["call"])(uow, *args)
        record.update(outcome="returned", value=_plain(value))
        if step["call"] == "place_order" and isinstance(value, dict):
            last_order[0] = str(value.get("order_id"))
    except Exception as error:
        record.update(
            outcome="raised", type=type(error).__name__, message=str(error)[:300], trace=traceback.format_exc()[-1500:]
        )
    finally:
        uow.inside = False  # a use case that never left its block must not leave the next one inside it
    after = (uow.commits, uow.writes, uow.outside, uow.blocks)
    deltas = (later - earlier for earlier, later in zip(before, after, strict=True))
    record.update(dict(zip(("commits", "writes", "outside", "blocks"), deltas, strict=True)))
    return record


def _plain(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return {"unencodable": repr(value)[:300]}


def _state(uow: FakeUnitOfWork) -> dict[str, Any]:
    products = {
        str(sku): {key: getattr(product, key, None) for key in ("name", "price_cents", "stock")}
        for sku, product in sorted(uow.products.committed.items(), key=_by_key)
    }
    orders = {}
    for order_id, order in sorted(uow.orders.committed.items(), key=_by_key):
        lines = [
            [getattr(line, key, None) for key in ("sku", "quantity", "unit_price_cents")]
            for line in getattr(order, "lines", [])
        ]
        orders[str(order_id)] = {"status": getattr(order, "status", None), "lines": lines}
    return _plain({"products": products, "orders": orders})


def _by_key(item: tuple[Any, Any]) -> str:
    return str(item[0])  # a use case that let a non-string key through must not break the report


def _watched_modules() -> list[str]:
    return sorted(name for name in sys.modules if any(name == w or name.startswith(w + ".") for w in WATCHED))
