"""The grader's record of every client operation, and its verdict through the linearizability checker."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from linearizability import Kind, Op, Value, Verdict, check

Outcome = Literal["ok", "fail", "info"]  # info: indefinite, the client never learned whether it happened
CHECK_BUDGET_S = 10.0


@dataclass
class Record:
    """One operation as a client saw it: what it asked, which nodes it asked, and what it learned."""

    id: int
    client: int
    kind: Kind
    key: str
    value: Value
    expected: Value
    invoked: float
    completed: float | None = None
    outcome: Outcome = "info"
    output: Value | bool = None
    replies: list[str] = field(default_factory=list)  # "node 1: not_leader", "node 0: no answer", ...

    def describe(self) -> str:
        if self.kind == "get":
            asked = f"get {self.key}"
        elif self.kind == "put":
            asked = f"put {self.key}={self.value}"
        else:
            asked = f"cas {self.key} {self.expected}→{self.value}"
        return f"client {self.client}: {asked} {self.result()}"

    def result(self) -> str:
        if self.outcome == "info":
            return "→ ? (unknown)"
        if self.outcome == "fail":
            return f"→ failed ({self.replies[-1] if self.replies else 'no reply'})"
        if self.kind == "get":
            return "→ not_found" if self.output is None else f"→ {self.output}"
        if self.kind == "cas":
            return "→ swapped" if self.output else "→ no swap"
        return "→ ok"

    def as_op(self) -> Op:
        return Op(
            id=self.id,
            key=self.key,
            kind=self.kind,
            invoked=self.invoked,
            completed=self.completed if self.outcome == "ok" else None,
            value=self.value,
            expected=self.expected,
            output=self.output,
        )


class History:
    """Every operation of one check, from any client thread, timed on one clock from the check's start."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._lock = threading.Lock()
        self._start = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._start

    def invoke(self, client: int, kind: Kind, key: str, value: Value = None, expected: Value = None) -> Record:
        with self._lock:
            record = Record(len(self.records), client, kind, key, value, expected, self.now())
            self.records.append(record)
            return record

    def complete(self, record: Record, outcome: Outcome, output: Any = None) -> None:
        record.completed, record.outcome, record.output = self.now(), outcome, output

    def verdict(self) -> Verdict:
        """Definite failures did not happen: they are left out of the search."""
        with self._lock:
            ops = [record.as_op() for record in self.records if record.outcome != "fail"]
        return check(ops, CHECK_BUDGET_S)

    def counts(self) -> dict[str, int]:
        totals = {"ok": 0, "fail": 0, "info": 0}
        for record in self.records:
            totals[record.outcome] += 1
        return totals
