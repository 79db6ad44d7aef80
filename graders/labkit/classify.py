"""Turning what a check raised into a verdict: whose fault it was, and what to tell the learner."""

from __future__ import annotations

import socket
import traceback
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import CheckFailed, CheckTimedOut, HarnessError
from labkit.results import Status

# Socket errors a check did not catch are almost always the learner program's doing; say so in plain words.
FRIENDLY_SOCKET_ERRORS: tuple[tuple[type[BaseException], str, str], ...] = (
    (
        ConnectionRefusedError,
        "the connection was refused: nothing is listening on the port any more",
        "did your program crash or stop listening? See its stderr below",
    ),
    (
        ConnectionResetError,
        "your program reset the connection (TCP RST) in the middle of the exchange",
        "this usually means the program crashed or closed a socket with unread data; see its stderr below",
    ),
    (
        BrokenPipeError,
        "your program closed the connection while the grader was still sending",
        "keep reading until you have a whole message; do not close a connection the client still uses",
    ),
    (
        socket.timeout,
        "no answer from your program in time",
        "a reply that never comes often means a read waits for more bytes than were sent, or a missing flush",
    ),
    (
        EOFError,
        "your program closed the connection before sending a complete reply",
        "check that every reply is written in full (sendall / a write loop) before closing",
    ),
)


@dataclass(frozen=True)
class Verdict:
    status: Status
    message: str
    expected: str | None = None
    got: str | None = None
    hint: str | None = None


def classify(error: BaseException, *, stage_modules: Collection[str] = ()) -> Verdict:
    """``stage_modules`` are the file names of the lab's stage modules (and an instructor's hidden ones): an
    assert there judges the learner; an assert anywhere else is a broken invariant of the grader."""
    timeout = next((e for e in _chain(error) if isinstance(e, CheckTimedOut)), None)
    if timeout is not None:  # whatever a cleanup raised after the alarm, the check ran out of time
        return Verdict(
            Status.TIMEOUT,
            f"timed out after {timeout.seconds:g} s",
            hint="the check waited for something your program never did; see the transcript with -v",
        )
    if isinstance(error, CheckFailed):
        return Verdict(Status.FAILED, error.message, error.expected, error.got, error.hint)
    if isinstance(error, HarnessError):
        return Verdict(Status.ERROR, f"harness error (not your fault): {error.message}", hint=error.hint)
    for kind, message, hint in FRIENDLY_SOCKET_ERRORS:
        if isinstance(error, kind):
            return Verdict(Status.FAILED, message, got=f"{type(error).__name__}: {error}", hint=hint)
    if isinstance(error, AssertionError):
        frame = _raising_frame(error)
        if frame is not None and Path(frame.filename).name in stage_modules:
            return Verdict(Status.FAILED, str(error) or "a check did not hold")
        where = "an unknown place" if frame is None else _short_location(frame)
        return Verdict(
            Status.ERROR,
            f"harness error (not your fault): grader bug, please report it: an assertion of the grader failed "
            f"in {where}: {error or '(no message)'}\n{_trace(error)}",
        )
    return Verdict(Status.ERROR, f"harness error (not your fault), please report it:\n{_trace(error)}")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, then what it was raised from or while handling, outward."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _raising_frame(error: BaseException) -> traceback.FrameSummary | None:
    frames = traceback.extract_tb(error.__traceback__, limit=-1)
    return frames[-1] if frames else None


def _short_location(frame: traceback.FrameSummary) -> str:
    path = Path(frame.filename)
    return f"{path.parent.name}/{path.name}:{frame.lineno} ({frame.name})"


def _trace(error: BaseException) -> str:
    return "".join(traceback.format_exception(error, limit=-3)).strip()
