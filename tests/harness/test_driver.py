"""Driver labs through the real grading path: a throwaway lab whose learner module runs in a driver process.

Each implementation below is graded by the same stage; the verdicts show what a learner would read when their
module works, raises, prints, hangs, crashes or cannot be imported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from throwaway import Stage, ThrowawayKit

STAGE = """
import os

from labkit.checks import expect_equal
from labkit.driver import LearnerRaised


def check_values_cross_the_pipe(driver):
    expect_equal(driver.call("add", 2, 3), 5, "add(2, 3)")
    expect_equal(driver.call("echo", b"\\x00\\xff", key=[1, "two"]), [b"\\x00\\xff", {"key": [1, "two"]}], "echo")


def check_learner_exceptions_can_be_expected(driver):
    try:
        driver.call("divide", 1, 0)
    except LearnerRaised as raised:
        expect_equal(raised.type_name, "ZeroDivisionError", "the exception type")
    else:
        raise AssertionError("divide(1, 0) must raise")


def check_state_lives_in_the_driver_process(driver):
    expect_equal(driver.call("pid") != os.getpid(), True, "the learner code runs in another process")
    expect_equal(driver.call("count"), 1, "first count()")
    expect_equal(driver.call("count"), 2, "second count()")


def check_several_drivers_are_independent(start_driver):
    first, second = start_driver(), start_driver()
    first.call("count")
    expect_equal(second.call("count"), 1, "a second driver has its own state")


def check_a_driver_can_import_from_a_folder_the_grader_prepared(start_driver, run_info):
    prepared = run_info.run_dir / "prepared"
    prepared.mkdir()
    (prepared / "calc.py").write_text("def add(a, b):\\n    return 'prepared'\\n")
    expect_equal(start_driver(impl=prepared).call("add", 1, 2), "prepared", "add() from the prepared folder")
    expect_equal(start_driver().call("add", 1, 2), 3, "add() from the implementation, beside it")
"""

GOOD = """
import os
import sys

_calls = 0


def add(a, b):
    print("adding", a, b)  # prints must not corrupt the protocol
    os.write(1, b"raw write to fd 1\\n")
    return a + b


def echo(data, **kwargs):
    return (data, kwargs)


def divide(a, b):
    return a / b


def pid():
    return os.getpid()


def count():
    global _calls
    _calls += 1
    return _calls
"""


@pytest.fixture
def demo_kit(tmp_path: Path) -> ThrowawayKit:
    return ThrowawayKit(tmp_path).lab(
        "calc",
        "driver",
        run={"module": "calc", "ready_timeout": 10},
        stages={"calls": Stage(STAGE, points=4, timeout=5)},
    )


def grade(kit: ThrowawayKit, module_source: str) -> tuple[int, dict[str, Any]]:
    return kit.grade("calc", impl=kit.impl({"calc.py": module_source}))


def first_failure(result: dict[str, Any]) -> dict[str, Any]:
    checks = result["labs"][0]["stages"][0]["checks"]
    return next(check for check in checks if check["status"] != "passed")


def test_a_working_module_passes_every_call(demo_kit: ThrowawayKit) -> None:
    code, result = grade(demo_kit, GOOD)
    assert (code, result["labs"][0]["points"]) == (0, 4), json.dumps(result, indent=1)


def test_an_unexpected_exception_shows_the_learners_traceback(demo_kit: ThrowawayKit) -> None:
    code, result = grade(demo_kit, GOOD.replace("return a + b", "return a + undefined_name"))
    failure = first_failure(result)
    assert code == 1
    assert failure["message"] == "your add() raised NameError: name 'undefined_name' is not defined"
    assert "calc.py" in failure["got"] and "labkit" not in failure["got"].split("calc.py")[-1]


def test_an_import_error_is_the_learners_failure_with_the_reason(demo_kit: ThrowawayKit) -> None:
    code, result = grade(demo_kit, "def add(a, b)\n    return a + b\n")
    failure = first_failure(result)
    assert code == 1
    assert failure["message"].startswith("your module 'calc' could not be imported: SyntaxError")


def test_a_hanging_call_times_out_and_a_crash_is_named(demo_kit: ThrowawayKit) -> None:
    hanging = GOOD.replace("return a + b", "import time; time.sleep(60)")
    code, result = grade(demo_kit, hanging)
    assert code == 1
    assert "timed out after 5 s" in first_failure(result)["message"]

    crashing = GOOD.replace("return a + b", "os._exit(3)")
    code, result = grade(demo_kit, crashing)
    assert code == 1
    assert first_failure(result)["message"].startswith("the process running your module exited with code 3 during")


def test_bytes_read_the_same_in_the_transcript_and_the_verdict(demo_kit: ThrowawayKit) -> None:
    code, result = grade(demo_kit, GOOD.replace("return (data, kwargs)", "return (data + b'!', kwargs)"))
    failure = first_failure(result)
    assert code == 1
    shown = "\n".join([failure["expected"], failure["got"], *failure["transcript"]])
    assert '"\\x00\\xff"' in failure["expected"] and '"\\x00\\xff!"' in failure["got"]
    assert "echo(\"\\x00\\xff\", key=[1, 'two'])" in shown
    assert "b'" not in shown, "no Python byte literal next to the escaped form"


PROBE_STAGE = """
import os
import shutil

from labkit.checks import expect_equal

PROBE = '''
import shapes


def area_of_square(side):
    return {"area": shapes.square(side), "probe": __file__}
'''


def check_a_grader_module_drives_the_learners_code(start_driver, run_info):
    folder = run_info.run_dir / "probes"
    folder.mkdir(exist_ok=True)
    (folder / "probe.py").write_text(PROBE)
    probe = start_driver(module="probe", module_path=[folder])
    answer = probe.call("area_of_square", 7)
    expect_equal(answer["area"], 49, "the learner's square(7), called by the grader's probe")
    expect_equal(os.path.dirname(answer["probe"]), str(folder), "where the probe was found")
    expect_equal(probe.call("area_of_square", 12)["area"], 144, "a second call in the same process")
"""


def test_a_server_lab_drives_the_learners_modules_through_its_own_probe(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).lab(
        "geometry",
        "server",
        run={"command": ["{python}", "server.py"], "ready": "none"},
        stages={"probe": Stage(PROBE_STAGE, points=1, timeout=10)},
    )
    # A learner file named like the grader's probe must not shadow it: the probe's folder comes first.
    impl = kit.impl({"shapes.py": "def square(side):\n    return side * side\n", "probe.py": "raise SystemExit(9)\n"})
    code, result = kit.grade("geometry", impl=impl)
    assert (code, result["labs"][0]["points"]) == (0, 1), json.dumps(result, indent=1)

    # The learner's folder gets no bytecode: a cache of the first shapes.py could pass for the second one, which
    # has the same size and may be saved within the same second.
    assert not (impl / "__pycache__").exists()
    impl = kit.impl({"shapes.py": "def square(side):\n    return side + side\n"})
    code, result = kit.grade("geometry", impl=impl)
    failure = result["labs"][0]["stages"][0]["checks"][0]
    assert code == 1
    assert failure["message"] == "the learner's square(7), called by the grader's probe is wrong"
    assert (failure["expected"], failure["got"]) == ("49", "14")


COUNTING_ADAPTER = """
import types


def wrap(module):
    counted = []

    def add(a, b):
        counted.append((a, b))
        return module.add(a, b)

    def note(path):
        with open(path, "w") as sink:
            sink.write("written")

    return types.SimpleNamespace(add=add, calls=lambda: len(counted), note=note)
"""

ADAPTED_STAGE = f"""
from labkit.checks import expect_equal

ADAPTER = {COUNTING_ADAPTER!r}


def check_the_adapter_owns_what_the_learner_is_given(start_driver, tmp_path):
    adapter = tmp_path / "counting_adapter.py"
    adapter.write_text(ADAPTER)
    driver = start_driver(adapter=adapter, writable=[tmp_path])
    expect_equal(driver.call("add", 2, 3), 5, "add(2, 3) through the adapter")
    expect_equal(driver.call("add", 4, 5), 9, "add(4, 5) through the adapter")
    expect_equal(driver.call("calls"), 2, "calls the adapter counted")
    expect_equal(driver.call("note", str(tmp_path / "note.txt")), None, "note()")
    expect_equal((tmp_path / "note.txt").read_text(), "written", "the note written in the writable folder")
"""


def test_an_adapter_stands_between_the_grader_and_the_learners_module(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).lab(
        "adapted",
        "driver",
        run={"module": "calc", "ready_timeout": 10},
        stages={"calls": Stage(ADAPTED_STAGE, points=1, timeout=10)},
    )
    code, result = kit.grade("adapted", impl=kit.impl({"calc.py": GOOD}))
    assert (code, result["labs"][0]["points"]) == (0, 1), json.dumps(result, indent=1)

    code, result = kit.grade("adapted", impl=kit.impl({"calc.py": GOOD.replace("return a + b", "return a - b")}))
    assert code == 1
    assert first_failure(result)["message"].startswith("add(2, 3) through the adapter")
