"""The grader's side of a suite run: the units it prepares, the plan it hands the learner's process, and what it
reads back from the records suite_runner.py wrote."""

from __future__ import annotations

import json
import re
import shutil
import signal
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.checks import fail
from labkit.learners import ClientResult, RunInfo

HERE = Path(__file__).parent
UNIT_FILE = "scheduler.py"
TESTS = "tests"
CORRECT = "correct"
RECORD = re.compile(r"@@labkit-suite (\{.*\})\s*$")
# A mutant that makes the suite hang is stopped (and killed, as mutation tools count it) after this many times
# the suite's run on the correct module in the same process, plus a margin for a loaded machine.
ROUND_LIMIT_FACTOR = 4
ROUND_LIMIT_MARGIN_S = 5.0
INI = """[pytest]
python_files = test_*.py *_test.py
python_classes = Test*
python_functions = test_*
"""


@dataclass(frozen=True)
class Variant:
    id: str
    rule: str
    old: str
    new: str
    property: bool = False


def variants() -> list[Variant]:
    data = tomllib.loads((HERE / "variants.toml").read_text())
    return [Variant(**entry) for entry in data["variant"]]


@dataclass(frozen=True)
class Round:
    id: str
    unit: str = CORRECT  # "correct" or a variant's id
    order: str = "given"  # "given", "reverse" or "random" (seeded by the run's seed and the round's id)
    alone: bool = False  # each test in a child of its own: no state left by another test
    only: str = ""  # "hypothesis": the property tests alone
    stop_first: bool = False  # -x: a variant is caught by the first failing test
    limited: bool = False  # stopped after ROUND_LIMIT_FACTOR times the plan's first round, plus ROUND_LIMIT_MARGIN_S
    brief: bool = False  # only the tests that did not pass are reported, with a one-line traceback
    last_if_failed: bool = False  # a failed round ends the run: the rounds after it would be judged too late


@dataclass
class TestRecord:
    nodeid: str
    outcome: str
    asserts: int
    mocked: list[str]
    network: list[str]
    property: bool
    message: str = ""


@dataclass
class RoundResult:
    id: str
    exit: int | None = None  # the round's pytest exit status; None: the round never ended
    collected: int | None = None
    ended: bool = False  # the probe's closing record came
    timed_out: bool = False  # a limited round the runner stopped
    tests: dict[str, TestRecord] = field(default_factory=dict)
    collect_errors: list[str] = field(default_factory=list)
    setup_error: str = ""

    @property
    def failed(self) -> list[TestRecord]:
        return [test for test in self.tests.values() if test.outcome in ("failed", "error")]

    @property
    def complete(self) -> bool:
        return self.ended and self.collected == len(self.tests)


@dataclass(frozen=True)
class SuiteRun:
    client: ClientResult
    rounds: dict[str, RoundResult]


def prepare(run_info: RunInfo) -> Path:
    """The folder the learner's process reads: the runner, the ini, the correct unit and every variant."""
    folder = run_info.run_dir / "suite"
    if folder.exists():
        return folder
    folder.mkdir()
    shutil.copyfile(HERE / "suite_runner.py", folder / "suite_runner.py")
    (folder / "pytest.ini").write_text(INI)
    original = (run_info.lab_folder / UNIT_FILE).read_text()
    (folder / CORRECT).mkdir()
    (folder / CORRECT / UNIT_FILE).write_text(original)
    for variant in variants():
        assert original.count(variant.old) == 1, f"variant {variant.id} does not apply"
        (folder / variant.id).mkdir()
        (folder / variant.id / UNIT_FILE).write_text(original.replace(variant.old, variant.new))
    return folder


def run_suite(
    run_client: Callable[..., ClientResult], run_info: RunInfo, rounds: Sequence[Round], timeout: float
) -> SuiteRun:
    folder = prepare(run_info)
    plan = {
        "seed": run_info.seed,
        "ini": str(folder / "pytest.ini"),
        "tests": TESTS,
        "round_limit": {"factor": ROUND_LIMIT_FACTOR, "margin_s": ROUND_LIMIT_MARGIN_S},
        "rounds": [
            {
                "id": spec.id, "unit": str(folder / spec.unit), "order": spec.order, "alone": spec.alone,
                "only": spec.only, "stop_first": spec.stop_first,
                "stop_on_failure": spec.last_if_failed, "limited": spec.limited,
                "brief": spec.brief,
            }
            for spec in rounds
        ],
    }  # fmt: skip
    plan_path = folder / f"plan-{rounds[0].id}.json"
    plan_path.write_text(json.dumps(plan))
    client = run_client(
        args=[str(folder / "suite_runner.py"), str(plan_path)],
        env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        timeout=timeout,
    )
    return SuiteRun(client, parse(client.stdout, [spec.id for spec in rounds]))


def parse(stdout: bytes, round_ids: Sequence[str]) -> dict[str, RoundResult]:
    results = {round_id: RoundResult(round_id) for round_id in round_ids}
    for line in stdout.decode(errors="replace").splitlines():
        match = RECORD.search(line)
        if match is None:
            continue
        try:
            record: dict[str, Any] = json.loads(match.group(1))
        except json.JSONDecodeError:
            continue
        result = results.get(str(record.get("round")))
        if result is not None:
            _apply(result, record)
    return results


def _apply(result: RoundResult, record: dict[str, Any]) -> None:
    event = record.get("event")
    if event == "collected":
        result.collected = int(record["count"])
    elif event == "collect-error":
        result.collect_errors.append(f"{record['where']}: {record['message']}")
    elif event == "setup-error":
        result.setup_error = str(record["message"])
    elif event == "test":
        test = TestRecord(
            nodeid=str(record["nodeid"]),
            outcome=str(record["outcome"]),
            asserts=int(record["asserts"]),
            mocked=list(record["mocked"]),
            network=list(record["network"]),
            property=bool(record["property"]),
            message=str(record.get("message", "")),
        )
        result.tests[test.nodeid] = test
    elif event == "end":
        result.ended = True
    elif event == "exit":
        result.exit = int(record["code"])
        result.timed_out = bool(record.get("timed_out"))


def expect_ran(run: SuiteRun, result: RoundResult, what: str) -> None:
    """Fails unless the round ran to its end with the grader's probe in place and collected at least one test."""
    client = run.client
    if client.timed_out or client.output_capped:
        fail(
            f"your suite {client.outcome} ({what})",
            expected="the whole suite finished, each test within 10 s, writing little output",
            hint="a test that waits for something that never happens, or prints in a loop, stops the grading",
        )
    if result.setup_error:
        fail(f"the grader could not set your suite up ({what}): {result.setup_error}")
    if result.collect_errors:
        fail(
            f"pytest could not collect your suite ({what})",
            expected="every test module imports cleanly",
            got=result.collect_errors[0],
            hint=f"run `python -m pytest {TESTS}` in your folder and fix the first error",
        )
    if result.exit is not None and result.exit < 0:
        killed = signal.Signals(-result.exit).name if -result.exit in signal.valid_signals() else str(-result.exit)
        fail(
            f"pytest was killed by signal {killed} while running your suite ({what})",
            expected="the suite runs to its end",
            got=f"{len(result.tests)} of {result.collected} tests reported before it died",
            hint="SIGXFSZ: a test wrote more than the output limit (print less); SIGKILL: memory or processes"
            if killed in ("SIGXFSZ", "SIGKILL")
            else "run your suite with `python -m pytest tests` and look for a test that crashes the interpreter",
        )
    if not result.complete:
        got = "no record at all" if result.collected is None else f"{len(result.tests)} of {result.collected} tests"
        fail(
            f"the grader's pytest plugin did not report every test of your suite ({what})",
            expected="one report per collected test and a closing report",
            got=f"{got}; pytest exit status {result.exit}",
            hint="do not unregister or block plugins in conftest.py, and do not exit the process from a test",
        )
    if result.collected == 0:
        fail(
            f"your suite has no test ({what})",
            expected=f"test functions named test_* in {TESTS}/test_*.py",
            got="pytest collected nothing",
        )
