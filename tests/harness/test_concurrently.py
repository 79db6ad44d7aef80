"""labkit.checks.concurrently: a check's independent probes at the same time, reported as if one after another."""

from __future__ import annotations

import threading

import pytest

from labkit import context
from labkit.checks import CheckFailed, concurrently, fail, log

PATIENCE_S = 30.0  # generous: a bound for a loaded machine, never a measurement


@pytest.fixture(autouse=True)
def fresh_check() -> context.CheckContext:
    return context.reset()


def test_probes_run_at_the_same_time_and_results_come_back_in_the_order_given() -> None:
    everyone = threading.Barrier(3, timeout=PATIENCE_S)  # broken unless all three wait on it at once

    def probe(value: int) -> int:
        everyone.wait()
        return value

    results = concurrently({"c": lambda: probe(3), "a": lambda: probe(1), "b": lambda: probe(2)})
    assert list(results.items()) == [("c", 3), ("a", 1), ("b", 2)]


def test_each_probes_lines_reach_the_transcript_together_under_its_name() -> None:
    a_logged, b_logged = threading.Event(), threading.Event()

    def first() -> None:
        log("a1")
        a_logged.set()
        assert b_logged.wait(PATIENCE_S)
        log("a2")

    def second() -> None:
        assert a_logged.wait(PATIENCE_S)
        log("b1")
        b_logged.set()
        log("b2")

    concurrently({"first": first, "second": second})
    assert context.current().transcript == ["first:", "  a1", "  a2", "second:", "  b1", "  b2"]


def test_the_first_failure_in_the_order_given_is_raised_once_every_probe_ended() -> None:
    second_failed = threading.Event()
    ended: list[str] = []

    def first() -> None:
        assert second_failed.wait(PATIENCE_S)
        fail("the first probe failed")

    def second() -> None:
        second_failed.set()
        fail("the second probe failed")

    def third() -> str:
        assert second_failed.wait(PATIENCE_S)
        log("the third probe passed")
        ended.append("third")
        return "done"

    with pytest.raises(CheckFailed, match="the first probe failed"):
        concurrently({"first": first, "second": second, "third": third})
    assert ended == ["third"]
    assert "  the third probe passed" in context.current().transcript


def test_a_grader_error_in_a_probe_is_raised_as_itself() -> None:
    def broken() -> None:
        raise KeyError("a grader bug")

    with pytest.raises(KeyError, match="a grader bug"):
        concurrently({"fine": lambda: None, "broken": broken})


def test_threads_a_probe_starts_log_straight_to_the_transcript() -> None:
    def probe() -> None:
        helper = threading.Thread(target=log, args=("from the probe's own thread",))
        helper.start()
        helper.join(PATIENCE_S)
        log("from the probe")

    concurrently({"probe": probe})
    assert context.current().transcript == ["from the probe's own thread", "probe:", "  from the probe"]


def test_a_check_logging_from_many_threads_keeps_every_line_up_to_the_cap() -> None:
    threads = [
        threading.Thread(target=lambda n=n: [log(f"{n}.{i}") for i in range(50)]) for n in range(8)
    ]  # 400 lines for a transcript that keeps 200
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(PATIENCE_S)
    check = context.current()
    assert len(check.transcript) == context.MAX_TRANSCRIPT_LINES
    assert check.dropped_lines == 8 * 50 - context.MAX_TRANSCRIPT_LINES
    assert context.current().capped_transcript()[-1] == f"… {check.dropped_lines} more lines not recorded"


def test_log_outside_probes_is_untouched() -> None:
    log("before")
    concurrently({"probe": lambda: log("inside")})
    log("after")
    assert context.current().transcript == ["before", "probe:", "  inside", "after"]
    with pytest.raises(CheckFailed):
        concurrently({"failing": lambda: fail("no")})
    assert context.current().transcript[-1] == "failing:"
