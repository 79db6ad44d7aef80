"""Is a history of register operations linearizable? A Wing–Gong search with Lowe's memoisation, per key.

Pure logic, no I/O. Each key is an independent register (initially absent), so the history is split by key and
each part searched alone. An operation has an invocation time and, if its outcome is known, a completion time;
an indefinite one (the client never learned its outcome) may take effect at any point after its invocation, or
never, so it is given an infinite completion time and its output is not checked. Operations that failed with a
definite error did not happen and are left out by the caller. The search stops at a deadline and says "unknown".

When a key's history is not linearizable, :func:`explain` shrinks it to a small core that still is not: it drops
operations one at a time, keeping the write of every value a remaining read (or swapping cas) observed, so a
stale read comes back as the write it missed, the write it saw and the read itself.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["get", "put", "cas"]
Status = Literal["linearizable", "not linearizable", "unknown"]
Value = str | None  # None: the key is absent
UNKNOWN_OUTPUT = "<indefinite>"


@dataclass(frozen=True)
class Op:
    """One operation. ``value``: what put writes or cas writes; ``expected``: what cas compares with.
    ``output``: what get read (None: not found) or whether cas swapped; ignored when ``completed`` is None."""

    id: int
    key: str
    kind: Kind
    invoked: float
    completed: float | None
    value: Value = None
    expected: Value = None
    output: Value | bool = None


@dataclass(frozen=True)
class Verdict:
    status: Status
    key: str | None = None  # the first key whose history is not linearizable (or ran out of time)
    culprits: tuple[int, ...] = ()  # ids of a small set of operations that cannot be linearized together


def step(state: Value, op: Op) -> tuple[bool, Value]:
    """Whether ``op`` may take effect on a register holding ``state``, and what the register holds afterwards."""
    definite = op.completed is not None
    if op.kind == "get":
        return (not definite or op.output == state), state
    if op.kind == "put":
        return True, op.value
    swapped = state is not None and state == op.expected
    return (not definite or op.output == swapped), (op.value if swapped else state)


class _Entry:
    """A call or return in the doubly linked list the search lifts operations out of."""

    __slots__ = ("match", "next", "op", "prev")

    def __init__(self, op: Op | None) -> None:
        self.op = op
        self.match: _Entry | None = None  # a call's return entry; None for returns
        self.prev: _Entry | None = None
        self.next: _Entry | None = None


def _entries(ops: Sequence[Op]) -> _Entry:
    """The calls and returns in time order (calls first at a tie: overlapping is the lenient reading)."""
    events: list[tuple[float, int, int, _Entry]] = []
    for position, op in enumerate(ops):
        call, ret = _Entry(op), _Entry(None)
        call.match = ret
        completed = math.inf if op.completed is None else op.completed
        events += [(op.invoked, 0, position, call), (completed, 1, position, ret)]
    events.sort(key=lambda event: event[:3])
    head = _Entry(None)
    last = head
    for *_, entry in events:
        last.next, entry.prev = entry, last
        last = entry
    return head


def _lift(call: _Entry) -> None:
    for entry in (call, call.match):
        assert entry is not None and entry.prev is not None
        entry.prev.next = entry.next
        if entry.next is not None:
            entry.next.prev = entry.prev


def _unlift(call: _Entry) -> None:
    for entry in (call.match, call):
        assert entry is not None and entry.prev is not None
        entry.prev.next = entry
        if entry.next is not None:
            entry.next.prev = entry


class OutOfTime(Exception):
    pass


def linearizable_register(ops: Sequence[Op], deadline: float) -> bool:
    """Whether one key's operations are linearizable; raises :class:`OutOfTime` past ``deadline``."""
    head = _entries(ops)
    index = {id(op): position for position, op in enumerate(ops)}
    state: Value = None
    done = 0  # bitmask of linearized operations
    seen: set[tuple[int, Value]] = set()
    stack: list[tuple[_Entry, Value]] = []
    entry = head.next
    steps = 0
    while head.next is not None:
        steps += 1
        if steps % 1024 == 0 and time.monotonic() > deadline:
            raise OutOfTime
        assert entry is not None  # the list always ends in a return
        if entry.match is not None:  # a call: try to linearize it here
            assert entry.op is not None
            legal, after = step(state, entry.op)
            bit = 1 << index[id(entry.op)]
            if legal and (done | bit, after) not in seen:
                seen.add((done | bit, after))
                stack.append((entry, state))
                state, done = after, done | bit
                _lift(entry)
                entry = head.next
                continue
            entry = entry.next
        else:  # a return whose operation is not linearized yet: undo the last choice
            if not stack:
                return False
            call, state = stack.pop()
            assert call.op is not None
            done &= ~(1 << index[id(call.op)])
            _unlift(call)
            entry = call.next
    return True


def by_key(ops: Iterable[Op]) -> dict[str, list[Op]]:
    keys: dict[str, list[Op]] = {}
    for op in ops:
        keys.setdefault(op.key, []).append(op)
    return keys


def check(ops: Iterable[Op], budget_s: float = 5.0) -> Verdict:
    """The verdict on a whole history, within ``budget_s`` seconds of search (then "unknown")."""
    deadline = time.monotonic() + budget_s
    for key, part in sorted(by_key(ops).items()):
        try:
            if not linearizable_register(part, deadline):
                return Verdict("not linearizable", key, explain(part, deadline))
        except OutOfTime:
            return Verdict("unknown", key)
    return Verdict("linearizable")


def explain(ops: Sequence[Op], deadline: float) -> tuple[int, ...]:
    """The ids of a small subset of one key's non-linearizable ``ops`` that is still not linearizable."""
    core = list(ops)
    for op in sorted(ops, key=lambda candidate: candidate.invoked, reverse=True):
        if time.monotonic() > deadline:
            break
        rest = [other for other in core if other is not op]
        if _observed(op, rest):
            continue
        try:
            if not linearizable_register(rest, deadline):
                core = rest
        except OutOfTime:
            break
    return tuple(sorted(op.id for op in core))


def _observed(op: Op, others: Sequence[Op]) -> bool:
    """Whether a definite read among ``others`` returned the value ``op`` writes, or a definite cas swapped it
    (``op`` explains what they saw)."""
    if op.kind == "get" or op.value is None:
        return False
    return any(
        other.completed is not None
        and (
            (other.kind == "get" and other.output == op.value)
            or (other.kind == "cas" and other.output is True and other.expected == op.value)
        )
        for other in others
    )
