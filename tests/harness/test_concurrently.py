"""labkit.checks.concurrently: a check's independent probes at the same time, reported as if one after another."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from labkit import context
from labkit.artifacts import ArtifactStaging
from labkit.checks import CheckFailed, attach, concurrently, fail, log

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


class Program:
    """A stand-in for a learner program as the check's report sees it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def stderr_tail(self) -> str:
        return f"{self.name} crashed"

    def exit_code(self) -> int | None:
        return 1


def test_a_failure_reports_the_programs_of_its_probe_and_those_before_as_one_after_another_would() -> None:
    everyone = threading.Barrier(3, timeout=PATIENCE_S)  # each has started its program before any fails

    def probe(name: str, fails: bool) -> None:
        context.watch(Program(name))
        everyone.wait()
        if fails:
            fail(f"{name} failed")

    with pytest.raises(CheckFailed, match="second failed"):
        concurrently({
            "first": lambda: probe("first", False),
            "second": lambda: probe("second", True),
            "third": lambda: probe("third", True),
        })  # fmt: skip
    assert context.current().stderr_tail() == "first crashed\nsecond crashed"


def test_programs_started_outside_probes_stay_in_the_report() -> None:
    context.watch(Program("before"))
    with pytest.raises(CheckFailed):
        concurrently({"failing": lambda: fail("no"), "later": lambda: context.watch(Program("later"))})
    assert context.current().stderr_tail() == "before crashed"


def test_attachments_are_kept_in_the_probes_order_up_to_the_first_failure(tmp_path: Path) -> None:
    context.reset(ArtifactStaging(tmp_path, "demo").shelf("stage_a.py::check_a", "a", "check_a"))
    everyone = threading.Barrier(3, timeout=PATIENCE_S)

    def probe(name: str, fails: bool) -> None:
        everyone.wait()
        attach("log.txt", f"what {name} saw", f"the {name} probe's log")
        if fails:
            fail(f"{name} failed")

    with pytest.raises(CheckFailed, match="second failed"):
        concurrently({
            "first": lambda: probe("first", False),
            "second": lambda: probe("second", True),
            "third": lambda: probe("third", True),
        })  # fmt: skip
    kept = context.current().artifacts
    assert [(artifact.name, artifact.description) for artifact in kept] == [
        ("log.txt", "the first probe's log"),
        ("log-2.txt", "the second probe's log"),
    ]
