"""Waiting with a deadline: the one polling loop of labkit and its graders.

Nothing waits for readiness or for a side effect by sleeping a fixed time and hoping; it polls a predicate until
it holds or a deadline passes. ``until`` leaves the verdict to its caller (``None`` when time ran out);
``expect_within`` makes time running out the learner's failure, with a message they can act on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from labkit import context
from labkit.checks import fail

T = TypeVar("T")

POLL_INTERVAL_S = 0.01


def until(
    predicate: Callable[[], T | None],
    within: float,
    *,
    interval: float = POLL_INTERVAL_S,
    what: str | None = None,
) -> T | None:
    """The first truthy value ``predicate`` returns, polled every ``interval`` seconds; ``None`` once ``within``
    seconds have passed. The predicate is called at least once, and polling goes on until a call ends at the
    deadline (the last sleep is cut short), so a long interval does not lose the last chance; what it raises
    propagates. ``what`` names the awaited thing in the check's transcript when time runs out."""
    if interval <= 0:
        raise ValueError(f"interval must be positive, got {interval!r}")
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if what is not None:
                context.log(f"grader: waited {within:g} s for {what}, in vain")
            return None
        time.sleep(min(interval, remaining))


def expect_within(
    predicate: Callable[[], T | None],
    within: float,
    message: str,
    *,
    interval: float = POLL_INTERVAL_S,
    expected: str | None = None,
    hint: str | None = None,
) -> T:
    """Like :func:`until`, but time running out fails the check with ``message`` (Expected / Hint as given)."""
    value = until(predicate, within, interval=interval)
    if not value:
        fail(message, expected=expected, hint=hint)
    return value
