"""The assertions graders use. Each failure is a ``CheckFailed`` the learner reads as Expected / Got / Hint.

``log(line)`` adds a line to the check's transcript, which the learner sees with ``-v`` and under a failure;
``attach(name, content)`` keeps a file with the check's report; ``concurrently(probes)`` runs a check's
independent probes at the same time."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn, TypeVar

from labkit import context
from labkit.context import log
from labkit.errors import CheckFailed, HarnessError
from labkit.probes import concurrently
from labkit.render import describe_difference, escape_bytes, show_value

__all__ = [
    "CheckFailed", "HarnessError", "attach", "concurrently", "expect", "expect_bytes", "expect_equal", "fail", "log",
]  # fmt: skip

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
    fail(f"{what} is wrong", expected=show_value(expected), got=show_value(got), hint=hint)


def expect(condition: bool, message: str, *, hint: str | None = None) -> None:
    if not condition:
        fail(message, hint=hint)


def attach(name: str, content: str | bytes | Path, description: str = "") -> None:
    """Keeps a file with this check's report, passed or failed: an HTML timeline of a history, a packet log.

    Call it from the check or from a fixture while the check runs. ``content`` is text (written as UTF-8), bytes,
    or a file to copy. The learner finds it at ``labkit-artifacts/<lab>/<stage>--<check>/<name>`` and every report
    points to it. ``name`` is made a plain file name (no folders); a name used twice in a check gets a number.
    At most 5 MiB per artifact and 20 MiB per lab graded are kept: beyond that the file is cut and its report
    line says so."""
    context.attach(name, content, description)
