"""The assertions graders use. Each failure is a ``CheckFailed`` the learner reads as Expected / Got / Hint.

``log(line)`` adds a line to the check's transcript, which the learner sees with ``-v`` and under a failure;
``attach(name, content)`` keeps a file with the check's report; ``concurrently(probes)`` runs a check's
independent probes at the same time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn, TypeVar

from labkit import context
from labkit.context import log
from labkit.errors import CheckFailed, HarnessError
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
    context.current().attach(name, content, description)


def concurrently(probes: Mapping[str, Callable[[], T]]) -> dict[str, T]:
    """Runs each probe in a thread of its own, all at once, and returns their results by name (in the order of
    ``probes``) once all ended.

    For probes that mostly wait (on programs, sockets, a link) and share no state, such as transfers that each
    start their own programs: the check takes as long as the slowest one, not as all of them. A probe whose
    verdict rests on timing is better run alone, without others competing for the machine.

    Each probe's log lines reach the transcript together, under a line with its name, in the order of
    ``probes`` (lines logged by threads a probe starts itself go straight to the transcript). When probes fail,
    the exception of the first one in that order is raised, after every probe ended, as if they had run one
    after another."""
    results: dict[str, T] = {}
    errors: dict[str, BaseException] = {}
    lines: dict[str, list[str]] = {name: [] for name in probes}

    def run(name: str, probe: Callable[[], T]) -> None:
        with context.collecting(lines[name]):
            try:
                results[name] = probe()
            except BaseException as error:  # a failed check, a skip, a grader bug: all reported in the check
                errors[name] = error

    threads = [threading.Thread(target=run, args=item, name=f"probe {item[0]}", daemon=True) for item in probes.items()]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    finally:  # the check's timeout may end the wait: what the probes logged so far still explains it
        for name in probes:
            log(f"{name}:")
            for line in list(lines[name]):
                log(f"  {line}")
    for name in probes:
        if name in errors:
            raise errors[name]
    return {name: results[name] for name in probes}
