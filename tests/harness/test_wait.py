"""labkit.wait: the polling loop every grader and the harness wait with."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest

from labkit import context
from labkit.errors import CheckFailed
from labkit.wait import expect_within, until


def counting(values: list[object]) -> tuple[Callable[[], object], list[int]]:
    """A predicate returning ``values`` one per call (then the last one forever), and the count of its calls."""
    calls = [0]
    source = itertools.chain(values, itertools.repeat(values[-1]))

    def predicate() -> object:
        calls[0] += 1
        return next(source)

    return predicate, calls


def test_returns_the_first_truthy_value_as_soon_as_it_comes() -> None:
    predicate, calls = counting([None, 0, "", {"token": "t1"}, {"token": "t2"}])
    assert until(predicate, 30.0, interval=0.001) == {"token": "t1"}
    assert calls == [4]


def test_gives_none_once_time_is_up_having_polled_until_the_deadline() -> None:
    predicate, calls = counting([False])
    started = time.monotonic()
    assert until(predicate, 0.2, interval=0.05) is None
    assert time.monotonic() - started >= 0.2
    assert calls[0] >= 1


def test_sleeps_the_interval_between_calls() -> None:
    predicate, calls = counting([False])
    until(predicate, 0.5, interval=0.1)
    # A sleep never ends early: at most one call per full interval in the window, the first and a last short one.
    assert 1 <= calls[0] <= 0.5 / 0.1 + 2


def test_what_the_predicate_raises_propagates() -> None:
    def predicate() -> bool:
        raise ConnectionRefusedError("nothing listens")

    with pytest.raises(ConnectionRefusedError, match="nothing listens"):
        until(predicate, 30.0)


def test_a_wait_in_vain_is_told_in_the_transcript_when_it_is_named() -> None:
    context.reset()
    until(lambda: False, 0.01, what="the lock to be granted")
    until(lambda: False, 0.01)
    assert context.current().transcript == ["grader: waited 0.01 s for the lock to be granted, in vain"]


def test_an_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval must be positive"):
        until(lambda: True, 1.0, interval=0)


def test_expect_within_returns_the_value_or_fails_the_check_for_the_learner() -> None:
    predicate, _ = counting([None, 7])
    assert expect_within(predicate, 30.0, "never", interval=0.001) == 7
    with pytest.raises(CheckFailed) as failed:
        expect_within(lambda: None, 0.01, "cache:user:2 did not expire within 0.01 s", hint="use PX")
    assert (failed.value.message, failed.value.hint) == ("cache:user:2 did not expire within 0.01 s", "use PX")
