"""tcp-kv's own checks on top of the shared protocol client (labkit.tools.kvproto): a server that must survive."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from labkit.checks import fail
from labkit.errors import CheckFailed
from labkit.learners import LearnerProcess
from labkit.tools.kvproto import (
    DELETE,
    ERROR,
    GET,
    MAX_FRAME,
    MAX_KEY,
    NOT_FOUND,
    OK,
    SET,
    KvClient,
    describe,
    frame,
    request,
)

__all__ = [
    "DELETE",
    "ERROR",
    "GET",
    "MAX_FRAME",
    "MAX_KEY",
    "NOT_FOUND",
    "OK",
    "SET",
    "KvClient",
    "describe",
    "expect_alive",
    "expect_served_after",
    "frame",
    "request",
]

SURVIVAL_HINT = "handle EOF, ConnectionResetError and BrokenPipeError per connection; never let them end the process"
CRASH_GRACE_S = 1.0


def expect_alive(learner: LearnerProcess, after: str) -> None:
    code = learner.exit_code()
    if code is not None:
        _died(code, after)


def expect_served_after(learner: LearnerProcess, after: str, serve: Callable[[], None]) -> None:
    """Runs ``serve`` (a new client's request) after a disruption. If it fails because the server died, the
    verdict says so, whatever the client happened to see first (a refused connect, a reset, a close)."""
    try:
        serve()
    except (CheckFailed, OSError):
        code = learner.wait_exit(CRASH_GRACE_S)
        if code is not None:
            _died(code, after)
        raise
    expect_alive(learner, after)


def _died(code: int, after: str) -> NoReturn:
    fail(
        f"your server exited with code {code} after {after}",
        expected="the server keeps running and serving other clients",
        hint=SURVIVAL_HINT,
    )
