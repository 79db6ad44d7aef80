"""A check that fails while the grader itself stalled runs once more; its second verdict stands.

The stall is real: the check stops its own process with SIGSTOP and a helper continues it 0.8 s later, as a
loaded machine would deschedule it. Each check counts its attempts in a file of the implementation folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from labkit.stalls import STALL_S, StallWatch
from throwaway import ThrowawayKit

STALLING_CHECK = '''
import os
import signal
import subprocess


def stall_for(seconds):
    """Stops this whole process for ``seconds``, as a machine too busy to run it would."""
    subprocess.Popen(["sh", "-c", f"sleep {seconds}; kill -CONT {os.getpid()}"])
    os.kill(os.getpid(), signal.SIGSTOP)


def attempt_number(impl_dir):
    counter = impl_dir / "attempts"
    number = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(number))
    return number


def check_the_answer_in_time(impl_dir):
    """Answers in time"""
    number = attempt_number(impl_dir)
    if STALL_BEFORE(number):
        stall_for(0.8)
    assert not FAILS(number), f"attempt {number}: no answer within the limit"
'''


def grade(tmp_path: Path, stall_before: str, fails: str) -> tuple[dict[str, Any], int]:
    kit = ThrowawayKit(tmp_path)
    impl = kit.impl({"README": "nothing to run\n"})
    source = STALLING_CHECK.replace("STALL_BEFORE", f"({stall_before})").replace("FAILS", f"({fails})")
    kit.lab("stalls", stages={"timing": source})
    code, result = kit.grade("stalls", impl=impl)
    assert code in (0, 1), result
    check = result["labs"][0]["stages"][0]["checks"][0]
    return check, int((impl / "attempts").read_text())


def test_a_failure_during_a_stall_is_tried_again_and_the_second_verdict_stands(tmp_path: Path) -> None:
    check, attempts = grade(tmp_path, stall_before="lambda n: n == 1", fails="lambda n: n == 1")
    assert (check["status"], attempts) == ("passed", 2), check
    note = check["transcript"][0]
    assert "stalled for" in note and "attempt 1: no answer within the limit" in note, note


def test_a_failure_in_both_attempts_fails(tmp_path: Path) -> None:
    check, attempts = grade(tmp_path, stall_before="lambda n: True", fails="lambda n: True")
    assert (check["status"], attempts) == ("failed", 2), check
    assert check["message"].startswith("attempt 2: no answer within the limit"), check["message"]


@pytest.mark.parametrize(
    ("stall_before", "fails", "status"),
    [
        ("lambda n: False", "lambda n: True", "failed"),  # no stall: the failure is the program's
        ("lambda n: True", "lambda n: False", "passed"),  # a stall, but the check passed: nothing to try again
    ],
    ids=["failed-without-a-stall", "passed-despite-a-stall"],
)
def test_a_check_runs_once_unless_it_failed_during_a_stall(
    tmp_path: Path, stall_before: str, fails: str, status: str
) -> None:
    check, attempts = grade(tmp_path, stall_before, fails)
    assert (check["status"], attempts) == (status, 1), check
    assert not any("stalled" in line for line in check["transcript"]), check["transcript"]


def test_the_watch_measures_a_stall_and_forgets_it_on_restart() -> None:
    watch = StallWatch(tick_s=0.01)
    watch.start()
    time.sleep(0.05)
    assert watch.longest() < STALL_S
    subprocess.Popen(["sh", "-c", f"sleep 0.6; kill -CONT {os.getpid()}"])
    os.kill(os.getpid(), signal.SIGSTOP)  # this process stops until the helper continues it
    assert watch.longest() >= STALL_S
    watch.restart()
    time.sleep(0.05)
    assert watch.longest() < STALL_S
