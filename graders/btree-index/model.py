"""The grader's model of the tree (a dict) and the comparisons of the learner's answers and file with it."""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from typing import Any

from labkit.checks import fail
from session import Done, Operation, show
from treefile import Tree

U64 = 2**64

HINTS = {
    "insert": "insert() returns True for a new key, and False for a key already present, whose value it keeps",
    "update": "update() returns True and replaces the value of a present key; for an absent key it returns False "
    "and inserts nothing",
    "delete": "delete() returns True when the key was there, False otherwise",
    "get": "get() descends from the root with the separator rule (a key equal to a separator goes right)",
    "scan": "scan() descends to the first leaf of the range, then follows the leaf chain; check both bounds and "
    "their include flags",
}


class Model:
    def __init__(self) -> None:
        self.values: dict[int, int] = {}
        self._sorted: list[int] = []

    def apply(self, operation: Operation) -> Any:
        """What the tree must answer, with the model changed as the tree must be."""
        name, *args = operation
        if name == "get":
            return self.values.get(args[0])
        if name == "insert":
            key, value = args
            if key in self.values:
                return False
            self.values[key] = value
            bisect.insort(self._sorted, key)
            return True
        if name == "update":
            key, value = args
            if key not in self.values:
                return False
            self.values[key] = value
            return True
        if name == "delete":
            if args[0] not in self.values:
                return False
            del self.values[args[0]]
            self._sorted.pop(bisect.bisect_left(self._sorted, args[0]))
            return True
        if name == "scan":
            return self.scan(*args)
        raise ValueError(f"no such operation: {name}")

    def scan(
        self, low: int | None, high: int | None, include_low: bool = True, include_high: bool = False
    ) -> list[list[int]]:
        keys = self._sorted
        start = 0 if low is None else (bisect.bisect_left if include_low else bisect.bisect_right)(keys, low)
        stop = len(keys) if high is None else (bisect.bisect_right if include_high else bisect.bisect_left)(keys, high)
        return [[key, self.values[key]] for key in keys[start:stop]]

    def entries(self) -> list[tuple[int, int]]:
        return [(key, self.values[key]) for key in self._sorted]


def expect_answers(model: Model, operations: Sequence[Operation], done: Sequence[Done], hint: str = "") -> None:
    """Every answer equals the model's, operation by operation; the model follows along. ``hint`` replaces the
    advice per operation where the stage knows better (after a restart, say)."""
    for operation, answer in zip(operations, done, strict=True):
        expected = model.apply(operation)
        if answer.result != expected or type(answer.result) is not type(expected):
            fail(
                f"{show(operation)} returned a wrong answer",
                expected=_short(expected),
                got=_short(answer.result),
                hint=hint or HINTS[operation[0]],
            )


def expect_file_holds(tree: Tree, model: Model) -> None:
    """The leaf chain of the file holds exactly the model's keys and values."""
    entries = model.entries()
    if tree.entries == entries:
        return
    held = dict(tree.entries)
    missing = [key for key, _ in entries if key not in held]
    extra = [key for key in held if key not in model.values]
    wrong = [key for key, value in entries if key in held and held[key] != value]
    if missing:
        fail(
            f"{len(missing)} key(s) are missing from the leaves of the file, e.g. {missing[:6]}",
            hint="every key must stay in a leaf: a leaf split copies the separator up, it does not move it",
        )
    if extra:
        fail(f"the leaves of the file hold {len(extra)} key(s) that were deleted or never inserted, e.g. {extra[:6]}")
    fail(
        f"{len(wrong)} key(s) have a wrong value in the file, e.g. key {wrong[0]}",
        expected=str(model.values[wrong[0]]),
        got=str(held[wrong[0]]),
    )


def keys(rng: random.Random, count: int, spread: int = 10**6) -> list[int]:
    """``count`` distinct keys, several digits long, in random order."""
    return rng.sample(range(1, spread), count)


def value_of(key: int, salt: int = 0) -> int:
    return (key * 2654435761 + salt) % U64


def inserts(keys_: Sequence[int], salt: int = 0) -> list[Operation]:
    return [["insert", key, value_of(key, salt)] for key in keys_]


def gets(keys_: Sequence[int]) -> list[Operation]:
    return [["get", key] for key in keys_]


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
