"""Time budgets: each check's call gets its stage's timeout, and its fixture set-up a generous bound, so that
nothing a learner wrote can hang a run. A SIGALRM interrupts blocking calls and the check ends as a timeout."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Generator, Iterator
from types import FrameType

import pytest

from labkit.errors import CheckTimedOut
from labkit.plugin import state_of

SETUP_BUDGET_S = 300.0  # fixture set-up per check may start servers, load a dataset, run a learner's migration


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    with _alarm(max(state_of(item.config).stage_of[item.nodeid].timeout, SETUP_BUDGET_S)):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Arms a SIGALRM for the stage's timeout; blocking socket calls are interrupted and the check fails."""
    with _alarm(state_of(item.config).stage_of[item.nodeid].timeout):
        return (yield)


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise CheckTimedOut(seconds)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
