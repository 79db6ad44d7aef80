"""The grader's side of the substitution probe: run the learner's use cases on its in-memory unit of work, and
judge each step's outcome and what it did with the unit of work."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from labkit.checks import fail, log
from labkit.driver import Driver

PROBE = "lsprobe_services"
LAST_ORDER = "$last_order_id"  # replaced, in a step's arguments, by the order id the last place_order returned
CHANGING = frozenset({"add_product", "restock", "place_order", "cancel_order"})
NO_DATABASE_HINT = (
    "the grader imports shop.service_layer.services where no database exists: the service layer gets its unit of "
    "work as an argument and imports neither shop.adapters nor a driver"
)

RESULT_HINT = (
    "the README's 'The use cases' gives each result's exact keys and values; the service computes them all, the "
    "handler only turns them into JSON"
)


@dataclass(frozen=True)
class Step:
    call: str
    args: list[Any]

    def shown(self) -> str:
        return f"{self.call}(uow, {', '.join(json.dumps(arg)[:80] for arg in self.args)})"


@dataclass(frozen=True)
class Outcome:
    step: Step
    record: dict[str, Any]

    @property
    def raised(self) -> str | None:
        return self.record.get("type") if self.record.get("outcome") == "raised" else None

    @property
    def value(self) -> Any:
        return self.record.get("value")

    def count(self, what: str) -> int:
        number: int = self.record.get(what, 0)
        return number


@dataclass(frozen=True)
class Run:
    outcomes: list[Outcome]
    state: dict[str, Any]
    loaded: list[str]


def run_on_fakes(
    start_probe: Callable[..., Driver],
    preset: list[dict[str, Any]],
    steps: list[Step],
    failure: dict[str, Any] | None = None,
) -> Run:
    """One fresh process with no DATABASE_URL: the preset products stored and committed, then every step."""
    driver = start_probe(PROBE, {})
    payload = [{"call": step.call, "args": step.args} for step in steps]
    answer = driver.call("run", preset, payload, failure, timeout=20.0, quiet=True)
    if "import_error" in answer:
        fail(
            f"importing your service layer without a database failed: {answer['import_error']}",
            got=answer.get("trace"),
            hint=NO_DATABASE_HINT,
        )
    outcomes = [Outcome(step, record) for step, record in zip(steps, answer["steps"], strict=True)]
    for outcome in outcomes:
        shown = outcome.raised or f"returned {json.dumps(outcome.value)[:160]}"
        log(f"{outcome.step.shown()} → {shown}; commits {outcome.count('commits')}, writes {outcome.count('writes')}")
    return Run(outcomes, answer["state"], answer["loaded"])


def expect_returned(outcome: Outcome, expected: Any, *, hint: str | None = None) -> None:
    if outcome.raised:
        fail(
            f"{outcome.step.shown()} raised {outcome.raised}: {outcome.record.get('message')}",
            expected=f"it returns {json.dumps(expected)[:300]}",
            got=outcome.record.get("trace"),
            hint=hint or _hint_for(outcome.raised),
        )
    if outcome.value != expected:
        fail(
            f"{outcome.step.shown()} returned the wrong value",
            expected=json.dumps(expected)[:400],
            got=json.dumps(outcome.value)[:400],
            hint=hint or RESULT_HINT,
        )


def expect_raised(outcome: Outcome, type_name: str, *, hint: str | None = None) -> None:
    if outcome.raised != type_name:
        got = (
            f"it raised {outcome.raised}: {outcome.record.get('message')}"
            if outcome.raised
            else (f"it returned {json.dumps(outcome.value)[:200]}")
        )
        fail(
            f"{outcome.step.shown()} did not raise {type_name}",
            expected=f"{type_name} (shop.domain.errors)",
            got=got,
            hint=hint or _hint_for(outcome.raised),
        )
    if outcome.count("commits") or outcome.count("writes"):
        fail(
            f"{outcome.step.shown()} raised {type_name} but changed data first",
            expected="no add, save or commit on a refused request",
            got=f"{outcome.count('writes')} add/save call(s), {outcome.count('commits')} commit(s)",
            hint="check every rule before changing anything; a use case that raises never commits",
        )


def _hint_for(raised: str | None) -> str | None:
    if raised == "UsedOutsideWith":
        return "open `with uow:` in the use case and use uow.products / uow.orders only inside it"
    if raised == "StorageFailure":
        return "add() is for a new object, save() for one that exists; the grader's repository refuses the other"
    if raised == "ImportError":
        return NO_DATABASE_HINT
    if raised == "NotImplementedError":
        return "this use case is still the starter's stub"
    return None
