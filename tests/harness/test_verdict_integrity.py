"""Whose fault a verdict names must not depend on how a grader was written.

A check's timeout ends the check even when its code catches every Exception; an assert in a stage module judges
the learner, an assert anywhere else is a broken invariant of the grader and never the learner's zero. Most tests
grade a throwaway lab of kind "none" through the real CLI; the rest exercise the pieces directly.
"""

from __future__ import annotations

import json
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from labkit import driver_main
from labkit.catalog import Limits
from labkit.classify import classify
from labkit.driver import Driver
from labkit.errors import CheckFailed, CheckTimedOut
from labkit.results import Status
from labkit.supervisor import LaunchSpec, LearnerProcess
from labkit.timeouts import _alarm
from support import RUN_PREFIX
from throwaway import Stage, ThrowawayKit

LATER_STAGE = '''
def check_runs_only_when_the_first_stage_passed():
    """A later stage"""
'''

ANSWER_CHECK = '''
def check_the_answer(impl_dir):
    """answer.txt holds the answer"""
    answer = (impl_dir / "answer.txt").read_text().strip()
    assert answer == "42", f"answer.txt says {answer}, the spec says 42"
'''

HELPER = """
ROWS = ("alpha", "beta")


def rows():
    assert len(ROWS) == 3, "the grader's table has three rows"
    return ROWS
"""


@pytest.fixture
def kit(tmp_path: Path) -> ThrowawayKit:
    kit = ThrowawayKit(tmp_path)
    kit.impl({"answer.txt": "41\n"})
    return kit


def grade(kit: ThrowawayKit, stage_source: str, helper_source: str | None = None) -> tuple[int, dict[str, Any]]:
    kit.lab(
        "verdicts",
        stages={"judged": Stage(stage_source, points=10, timeout=1), "later": Stage(LATER_STAGE, points=10, timeout=1)},
        helpers={"tables": helper_source} if helper_source is not None else None,
    )
    return kit.grade("verdicts", impl=kit.impl_folder)


def checks_of(result: dict[str, Any], stage: int = 0) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in result["labs"][0]["stages"][stage]["checks"]}


def test_a_timeout_cannot_be_swallowed_by_except_exception(kit: ThrowawayKit) -> None:
    code, result = grade(
        kit,
        '''
        import threading


        def check_waits_and_swallows_every_exception():
            """A wait wrapped in except Exception"""
            try:
                threading.Event().wait(30)
            except Exception:
                pass
        ''',
    )
    check = checks_of(result)["A wait wrapped in except Exception"]
    assert (code, check["status"], check["points"]) == (1, "timeout", 0), json.dumps(result, indent=1)
    assert check["message"] == "timed out after 1 s"
    assert checks_of(result, stage=1)["A later stage"]["status"] == "skipped"


def test_a_fixture_that_times_out_ends_its_check_and_the_next_one_gets_it_afresh(kit: ThrowawayKit) -> None:
    code, result = grade(
        kit,
        '''
        import threading

        import pytest


        @pytest.fixture
        def slow_resource():
            threading.Event().wait(30)
            yield "never"


        def check_first_user(request):
            """First user of a fixture that hangs"""
            request.getfixturevalue("slow_resource")


        def check_second_user(request):
            """Second user of the same fixture"""
            request.getfixturevalue("slow_resource")
        ''',
    )
    checks = checks_of(result)
    statuses = [
        checks[name]["status"] for name in ("First user of a fixture that hangs", "Second user of the same fixture")
    ]
    assert (code, statuses) == (1, ["timeout", "timeout"]), json.dumps(result, indent=1)


def test_an_assert_in_a_stage_module_is_the_learners_failure(kit: ThrowawayKit) -> None:
    code, result = grade(kit, ANSWER_CHECK)
    check = checks_of(result)["answer.txt holds the answer"]
    assert (code, check["status"]) == (1, "failed"), json.dumps(result, indent=1)
    assert check["message"].startswith("answer.txt says 41, the spec says 42")
    assert "harness error" not in check["message"]


def test_an_assert_in_a_helper_module_is_a_grader_bug_not_the_learners_zero(kit: ThrowawayKit) -> None:
    code, result = grade(
        kit,
        '''
        from tables import rows


        def check_uses_a_broken_helper(impl_dir):
            """A check whose helper breaks its own invariant"""
            assert rows()
        ''',
        helper_source=HELPER,
    )
    check = checks_of(result)["A check whose helper breaks its own invariant"]
    assert (code, check["status"]) == (2, "error"), json.dumps(result, indent=1)
    assert check["message"].startswith("harness error (not your fault): grader bug")
    assert "verdicts/tables.py:6 (rows)" in check["message"]
    assert "the grader's table has three rows" in check["message"]
    assert checks_of(result, stage=1)["A later stage"]["status"] == "skipped"


def raised_here(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as raised:  # kept, with its traceback, to be classified
        return raised


def test_classify_judges_an_assert_by_the_module_that_raised_it() -> None:
    error = raised_here(AssertionError("two replies, expected one"))
    as_stage = classify(error, stage_modules={Path(__file__).name})
    elsewhere = classify(error, stage_modules={"stage_other.py"})
    assert (as_stage.status, as_stage.message) == (Status.FAILED, "two replies, expected one")
    assert elsewhere.status is Status.ERROR
    assert "grader bug" in elsewhere.message and f"harness/{Path(__file__).name}:" in elsewhere.message


def test_a_failure_raised_while_a_timeout_unwinds_is_still_a_timeout() -> None:
    try:
        try:
            raise CheckTimedOut(3)
        finally:
            raise CheckFailed("cannot call your cleanup(): an earlier call was interrupted")
    except CheckFailed as error:
        verdict = classify(error)
    assert (verdict.status, verdict.message) == (Status.TIMEOUT, "timed out after 3 s")


SLOW_MODULE = """
import time


def nap(seconds):
    time.sleep(seconds)
    return "rested"


def add(a, b):
    return a + b
"""


def test_a_driver_whose_call_was_interrupted_refuses_further_calls(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(textwrap.dedent(SLOW_MODULE))
    spec = LaunchSpec(
        command=(sys.executable, "-I", driver_main.__file__, str(tmp_path), "slow"),
        cwd=tmp_path,
        logs=tmp_path / "logs",
        marker=f"{RUN_PREFIX}integrity",
        limits=Limits(),
        pipes=True,
    )
    process = LearnerProcess.start(spec)
    try:
        driver = Driver(process, "slow")
        driver.wait_ready(30)
        assert threading.current_thread() is threading.main_thread(), "SIGALRM is delivered to the main thread"
        with pytest.raises(CheckTimedOut), _alarm(0.5):
            driver.call("nap", 30)
        # Its late reply would otherwise be read as the answer to this call.
        with pytest.raises(CheckFailed, match=r"cannot call your add\(\): an earlier call, nap\(\), was interrupted"):
            driver.call("add", 1, 2)
    finally:
        process.stop()
