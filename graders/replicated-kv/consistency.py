"""The verdict on a check's history: linearizable, or a failure naming the operations and a timeline to open."""

from __future__ import annotations

from kvclient import Kv
from labkit.checks import attach, fail, log
from timeline import render

LINEARIZABLE_HINT = (
    "every operation must take effect at one instant between its request and its reply: a read returns the "
    "last write before it, on whichever node it is asked (README, 'Consistency')"
)


def expect_linearizable(kv: Kv, situation: str, hint: str = LINEARIZABLE_HINT) -> None:
    """Fails the check, with the history's timeline attached, unless the history is linearizable. A search that
    runs out of time is logged and passes: the grader cannot blame what it could not decide."""
    verdict = kv.history.verdict()
    counts = kv.history.counts()
    log(f"history: {len(kv.history.records)} operations ({counts}); linearizability: {verdict.status}")
    if verdict.status == "linearizable":
        return
    if verdict.status == "unknown":
        log(f"the checker ran out of time on key {verdict.key}: the history is assumed linearizable")
        return
    records = {record.id: record for record in kv.history.records}
    culprits = [records[i] for i in verdict.culprits]
    attach(
        "timeline.html",
        render(kv.history.records, set(verdict.culprits), f"replicated-kv: {situation}"),
        "the operations on a timeline, the ones that cannot be linearized in red",
    )
    fail(
        f"{situation}: the history of key {verdict.key!r} is not linearizable",
        expected="an order of the operations, each at an instant between its request and its reply, in which "
        "every read returns the last value written",
        got="no such order exists for these operations (times in seconds from the check's start):\n"
        + "\n".join(f"  [{r.invoked:.3f}–{_end(r.completed)}] {r.describe()}" for r in culprits),
        hint=hint,
    )


def _end(completed: float | None) -> str:
    return "?" if completed is None else f"{completed:.3f}"
