"""The assertions graders use. Each failure is a ``CheckFailed`` the learner reads as Expected / Got / Hint.

``log(line)`` adds a line to the check's transcript, which the learner sees with ``-v`` and under a failure."""

from __future__ import annotations

from typing import NoReturn, TypeVar

from labkit.context import log
from labkit.errors import CheckFailed, HarnessError
from labkit.render import describe_difference, escape_bytes

__all__ = ["CheckFailed", "HarnessError", "expect", "expect_bytes", "expect_equal", "fail", "log"]

T = TypeVar("T")


def fail(message: str, *, expected: str | None = None, got: str | None = None, hint: str | None = None) -> NoReturn:
    raise CheckFailed(message, expected=expected, got=got, hint=hint)


def expect_bytes(got: bytes, expected: bytes, what: str, *, hint: str | None = None) -> None:
    if got == expected:
        return
    fail(
        f"{what} differs from the spec\n{describe_difference(expected, got)}",
        expected=escape_bytes(expected),
        got=escape_bytes(got),
        hint=hint,
    )


def expect_equal(got: T, expected: T, what: str, *, hint: str | None = None) -> None:
    if got == expected:
        return
    fail(f"{what} is wrong", expected=repr(expected), got=repr(got), hint=hint)


def expect(condition: bool, message: str, *, hint: str | None = None) -> None:
    if not condition:
        fail(message, hint=hint)
