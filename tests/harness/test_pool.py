"""The driver pool through the real grading path: a throwaway driver lab whose checks exercise ``labkit.pool``.

The checks of stage ``pool`` assert what the pool does (restarts, outcomes of every kind, the gate, teardown);
those of stage ``verdicts`` fail on purpose, to show what a learner reads for a hang, a crash, an undocumented
exception and a driver the grader killed.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import psutil
import pytest

from throwaway import Stage, ThrowawayKit

CONFTEST = """
from pathlib import Path

import pytest

from labkit.pool import driver_pool_fixture

pool = driver_pool_fixture(size=4, env=lambda greeting: {"GREETING": greeting})


@pytest.fixture(scope="session")
def greeting():
    return "hello from a fixture"


@pytest.fixture
def seen(pool):
    \"\"\"Writes the pid of every driver this check used, so the test can check none outlives the run.\"\"\"
    yield
    with Path(PIDS).open("a") as pids:
        for driver in pool.ready():
            pids.write(f"{driver.process.pid}\\n")
"""

STAGE_POOL = """
import socket
import threading

from labkit.checks import expect, expect_equal
from labkit.pool import call, driver_pool_fixture

shared = driver_pool_fixture(size=1, scope="module")
first_shared_pid = []


def check_ready_restarts_a_killed_driver(pool, seen):
    first = pool.ready(2)
    pids = [driver.call("pid") for driver in first]
    pool.kill(0)
    expect(not first[0].usable, "a killed driver is no longer usable")
    again = pool.ready(2)
    expect(again[1] is first[1], "a usable driver is kept")
    expect(again[0].usable and again[0].call("pid") not in pids, "the killed driver was replaced")
    expect_equal(again[0].call("greeting"), "hello from a fixture", "the environment from the env function")


def check_run_gathers_every_kind_of_outcome(pool, seen):
    added, divided, crashed, hung = pool.run(
        [call("add", 2, 3), call("divide", 1, 0), call("crash"), call("hang")], within=2.0
    )
    expect(added.returned and added.value == 5, f"add: {added}")
    expect((divided.raised, divided.text) == ("ZeroDivisionError", "division by zero"), f"divide: {divided}")
    expect(crashed.crashed and not crashed.hung, f"crash: {crashed}")
    expect("exited with code 3" in crashed.failure.message, f"crash: {crashed}")
    expect("about to crash" in crashed.stderr, f"the crashed driver's stderr: {crashed.stderr!r}")
    expect(hung.hung and hung.failure.message == "your hang() did not return within 2 s", f"hang: {hung}")
    expect_equal([driver.usable for driver in pool.ready()], [True] * 4, "drivers usable after ready()")


def check_usable_turns_false_after_a_crash(pool, seen):
    (driver,) = pool.ready(1)
    expect(driver.usable, "a fresh driver is usable")
    outcome = pool.outcome(0, call("crash"))
    expect(outcome.crashed, f"crash: {outcome}")
    expect(not driver.usable, "a driver whose process crashed is not usable")


class SocketGate:
    \"\"\"Holds each learner call at a loopback socket and answers it only when opened: the first open() lets
    the first call through, the second all the others.\"\"\"

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.1)
        self.port = self.server.getsockname()[1]
        self.lock = threading.Lock()
        self.waiting, self.arrivals, self.held_at_open = [], [], []
        self.closed = self.stopped = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopped:
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            label = conn.makefile("rb").readline().decode().strip()
            with self.lock:
                self.arrivals.append(label)
                if self.closed:
                    self.waiting.append(conn)
                    continue
            conn.sendall(b"went straight through")
            conn.close()

    def close(self):
        self.closed = True

    def held(self):
        with self.lock:
            return len(self.waiting)

    def open(self):
        with self.lock:
            if not self.closed:
                return True
            self.held_at_open.append(len(self.waiting))
            released = self.waiting[:1] if len(self.held_at_open) == 1 else self.waiting
            self.waiting = self.waiting[len(released):]
            self.closed = bool(self.waiting)
        for conn in released:
            conn.sendall(b"released")
            conn.close()
        return not self.closed

    def stop(self):
        self.stopped = True
        self.thread.join(5)
        self.server.close()


def check_the_gate_holds_calls_until_it_opens(pool, seen):
    gate = SocketGate()
    try:
        calls = [call("through_gate", gate.port, f"call {n}") for n in range(3)]
        outcomes = pool.run(calls, gate=gate, in_order=True, within=5.0)
    finally:
        gate.stop()
    expect_equal([outcome.value for outcome in outcomes], ["released"] * 3, "what the calls returned")
    expect_equal(gate.arrivals, ["call 0", "call 1", "call 2"], "the order in which the calls reached the gate")
    expect_equal(gate.held_at_open, [3, 2], "calls waiting at the gate each time it was opened")


def check_a_module_pool_keeps_its_driver(shared):
    (driver,) = shared.ready(1)
    first_shared_pid.append(driver.call("pid"))


def check_a_module_pool_is_shared_by_its_checks(shared):
    (driver,) = shared.ready(1)
    expect_equal([driver.call("pid")], first_shared_pid, "the pid of the stage's driver")
    with open(PIDS, "a") as pids:
        pids.write(f"{driver.process.pid}\\n")
"""

STAGE_VERDICTS = """
from labkit.checks import fail
from labkit.pool import call, expect_answers


def check_a_hang(pool):
    expect_answers(pool.run([call("add", 1, 1), call("hang")], within=1.0))


def check_a_crash(pool):
    expect_answers(pool.run([call("crash"), call("add", 1, 1)]))


def check_an_undocumented_exception(pool):
    outcomes = pool.run([call("divide", 1, 0), call("missing", 1)])
    expect_answers(outcomes, allowed={"ZeroDivisionError"}, hints={"AttributeError": "spell it as the README does"})


def check_a_driver_the_grader_killed(pool):
    pool.ready(1)
    pool.kill(0)
    fail("failed on purpose after the grader killed a driver")
"""

LEARNER = """
import os
import socket
import sys
import time


def pid():
    return os.getpid()


def greeting():
    return os.environ.get("GREETING")


def add(a, b):
    return a + b


def divide(a, b):
    return a / b


def crash():
    print("about to crash", file=sys.stderr, flush=True)
    os._exit(3)


def hang():
    time.sleep(60)


def through_gate(port, label):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(label.encode() + b"\\n")
        return conn.recv(100).decode()
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    kit = ThrowawayKit(tmp_path_factory.mktemp("pool"))
    pids = kit.folder / "pids.txt"

    def recording(source: str) -> str:
        return f"PIDS = {str(pids)!r}\n" + textwrap.dedent(source)

    kit.lab(
        "pooled",
        "driver",
        run={"module": "calc", "ready_timeout": 10},
        stages={
            "pool": Stage(recording(STAGE_POOL), points=6, timeout=30),
            "verdicts": Stage(recording(STAGE_VERDICTS), points=4, timeout=30),
        },
        helpers={"conftest": recording(CONFTEST)},
    )
    _, result = kit.grade("pooled", impl=kit.impl({"calc.py": LEARNER}))
    return result, pids


def checks_of(result: dict[str, Any], stage: str) -> dict[str, dict[str, Any]]:
    (found,) = (each for each in result["labs"][0]["stages"] if each["slug"] == stage)
    return {check["id"].split("/", 1)[1]: check for check in found["checks"]}


def test_every_check_of_the_pool_passes(graded: tuple[dict[str, Any], Path]) -> None:
    result, _ = graded
    checks = checks_of(result, "pool")
    assert len(checks) == 6
    failed = {name: check["message"] for name, check in checks.items() if check["status"] != "passed"}
    assert not failed, json.dumps(failed, indent=1)


def test_a_hang_past_within_is_named_with_its_deadline(graded: tuple[dict[str, Any], Path]) -> None:
    check = checks_of(graded[0], "verdicts")["check_a_hang"]
    assert (check["status"], check["message"]) == ("failed", "your hang() did not return within 1 s")
    assert check["hint"].startswith("look for a wait that never ends")


def test_a_crash_names_the_exit_and_shows_that_drivers_stderr(graded: tuple[dict[str, Any], Path]) -> None:
    check = checks_of(graded[0], "verdicts")["check_a_crash"]
    assert check["message"] == "the process running your module exited with code 3 during crash()"
    assert check["got"].startswith("crash()") and "about to crash" in check["got"]


def test_an_undocumented_exception_gets_its_hint_and_every_outcome(graded: tuple[dict[str, Any], Path]) -> None:
    check = checks_of(graded[0], "verdicts")["check_an_undocumented_exception"]
    assert check["message"] == "your missing() raised AttributeError: your module has no function missing()"
    assert check["hint"] == "spell it as the README does"
    assert check["got"].splitlines()[0] == "divide(1, 0) raised ZeroDivisionError: division by zero"


def test_a_driver_the_grader_killed_is_not_the_learners_crash(graded: tuple[dict[str, Any], Path]) -> None:
    check = checks_of(graded[0], "verdicts")["check_a_driver_the_grader_killed"]
    assert check["message"] == "failed on purpose after the grader killed a driver"
    assert check["hint"] is None


def test_no_driver_outlives_the_run(graded: tuple[dict[str, Any], Path]) -> None:
    _, pids = graded
    recorded = {int(line) for line in pids.read_text().split()}
    assert len(recorded) >= 5  # the session pool's four drivers, and the stage's own
    alive = [pid for pid in recorded if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    survivors = [pid for pid in alive if "driver_main" in " ".join(psutil.Process(pid).cmdline())]
    assert not survivors, f"driver processes still running after the run: {survivors}"
