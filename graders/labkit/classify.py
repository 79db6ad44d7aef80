"""Turning what a check raised into a verdict: whose fault it was, and what to tell the learner."""

from __future__ import annotations

import socket
import traceback
from dataclasses import dataclass

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


def classify(error: BaseException) -> Verdict:
    if isinstance(error, CheckFailed):
        return Verdict(Status.FAILED, error.message, error.expected, error.got, error.hint)
    if isinstance(error, CheckTimedOut):
        return Verdict(
            Status.TIMEOUT,
            f"timed out after {error.seconds:g} s",
            hint="the check waited for something your program never did; see the transcript with -v",
        )
    if isinstance(error, HarnessError):
        return Verdict(Status.ERROR, f"harness error (not your fault): {error.message}", hint=error.hint)
    for kind, message, hint in FRIENDLY_SOCKET_ERRORS:
        if isinstance(error, kind):
            return Verdict(Status.FAILED, message, got=f"{type(error).__name__}: {error}", hint=hint)
    if isinstance(error, AssertionError):
        return Verdict(Status.FAILED, str(error) or "a check did not hold")
    trace = "".join(traceback.format_exception(error, limit=-3)).strip()
    return Verdict(Status.ERROR, f"harness error (not your fault), please report it:\n{trace}")
