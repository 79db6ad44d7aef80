"""A call of the learner's module and what it did, as the grader judges it: returned, raised, hung or crashed.

``labkit.pool`` makes outcomes by running calls in driver processes; ``expect_answers`` turns the unexpected ones
into the verdict a learner reads. Both names are also importable from ``labkit.pool``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from labkit.checks import fail
from labkit.driver import STUB_HINT, STUB_RAISES
from labkit.errors import CheckFailed
from labkit.render import show_value

RAISED_HINT = "the README says which exceptions each function may raise, and when"


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Any, ...]

    def __str__(self) -> str:
        return f"{self.function}({', '.join(show_value(arg) for arg in self.args)})"


def call(function: str, *args: Any) -> Call:
    return Call(function, args)


@dataclass(frozen=True)
class Outcome:
    """What one call did: returned ``value``; raised the learner's exception ``raised`` (its type name) with
    ``text`` (the first line of its message); or got no answer, ``failure`` saying why: it ``hung`` (the grader
    stopped it), or its driver crashed and ``stderr`` is the tail of that driver's stderr."""

    call: Call
    value: Any = None
    raised: str | None = None
    text: str = ""
    failure: CheckFailed | None = None
    hung: bool = False
    stderr: str = ""

    @property
    def returned(self) -> bool:
        return self.raised is None and self.failure is None

    @property
    def crashed(self) -> bool:
        return self.failure is not None and not self.hung

    def __str__(self) -> str:
        if self.failure is not None:
            return f"{self.call}: {self.failure.message}"
        if self.raised is not None:
            return f"{self.call} raised {self.raised}: {self.text}"
        return f"{self.call} returned {self.value!r}"


def describe(outcomes: Sequence[Outcome]) -> str:
    """Every call and what it did, one per line: what the grader got from a batch."""
    return "\n".join(str(outcome) for outcome in outcomes)


def expect_answers(
    outcomes: Sequence[Outcome],
    allowed: Collection[str] = (),
    hints: Mapping[str, str] | None = None,
    *,
    hang_hint: str | None = None,
) -> None:
    """Every call answered, and raised nothing but the exception types named in ``allowed``.

    The first call that hung or crashed fails the check (``hang_hint`` replaces the usual advice for a hang);
    otherwise the first that raised anything else, with ``hints[its type name]`` as the hint.
    """
    for outcome in outcomes:
        if outcome.failure is not None:
            got = str(outcome.call)
            if outcome.stderr.strip():
                got += f"\nthe stderr of its process ends with:\n{outcome.stderr.rstrip()}"
            hint = hang_hint if outcome.hung and hang_hint else outcome.failure.hint
            fail(outcome.failure.message, got=got, hint=hint)
    for outcome in outcomes:
        if outcome.raised is not None and outcome.raised not in allowed:
            fail(
                f"your {outcome.call.function}() raised {outcome.raised}: {outcome.text}",
                got=describe(outcomes),
                hint=(hints or {}).get(outcome.raised, STUB_HINT if outcome.raised == STUB_RAISES else RAISED_HINT),
            )
