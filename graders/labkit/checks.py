"""The assertions graders use. Each failure is a ``CheckFailed`` the learner reads as Expected / Got / Hint."""

from __future__ import annotations

from typing import NoReturn, TypeVar

from labkit.errors import CheckFailed
from labkit.render import describe_difference, escape_bytes

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
