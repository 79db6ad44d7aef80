"""Runs the learner's pytest suite in rounds, in the learner's process: the grader copies this file next to a plan.

    python suite_runner.py PLAN.json

Each round is a forked child that imports the unit under test from the folder the plan names (the correct module
or a variant with one rule broken), then runs pytest with the grader's ini, plugin autoload off and the probe
below. The probe orders the tests as the round asks, seeds ``random`` per test, refuses connections beyond
loopback, counts passing assertions, notices a patched unit, stops a test that runs too long and writes one
JSON record per test to a copy of stdout that pytest's capture cannot reach. The grader reads those records; a
round without its closing record (a conftest that unregistered the probe, a crash) is reported as incomplete. A
round the plan limits (a mutant's) is killed once it outlives a multiple of the plan's first round, and its exit
record says it timed out.
"""

from __future__ import annotations

import functools
import gc
import importlib
import ipaddress
import json
import os
import random
import signal
import socket
import sys
import time
import traceback
import types
import unittest
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

PREFIX = "@@labkit-suite "
PROBE_NAME = "labkit-suite-probe"
UNIT = "scheduler"
TEST_TIMEOUT_S = 10
CONTEXT_ASSERTIONS = frozenset(
    {"assertRaises", "assertRaisesRegex", "assertWarns", "assertWarnsRegex", "assertLogs", "assertNoLogs"}
)


class TestTimedOut(BaseException):
    """Raised in a test that outlived its time (a BaseException, so ``except Exception`` cannot swallow it)."""


class Report:
    """One JSON line per record, on a descriptor duplicated before pytest started capturing."""

    def __init__(self, fd: int, round_id: str) -> None:
        self.fd = fd
        self.round_id = round_id

    def write(self, event: str, **fields: Any) -> None:
        line = PREFIX + json.dumps({"round": self.round_id, "event": event, **fields}) + "\n"
        os.write(self.fd, line.encode())


def is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class Probe:
    """The grader's pytest plugin for one round."""

    def __init__(
        self, report: Report, unit: types.ModuleType, seed: str, order: str, only: str, brief: bool = False
    ) -> None:
        self.report = report
        self.brief = brief  # a record for each test that did not pass only: the round is judged by those
        self.unit = unit
        self.seed = seed
        self.order = order
        self.only = only
        self.current: dict[str, Any] | None = None
        self.pristine = self.snapshot()
        self.collected = 0
        self.records: dict[str, dict[str, Any]] = {}
        count_unittest_assertions(self)

    def snapshot(self) -> dict[str, int]:
        """Identity of every name of the unit and of its classes: a patched one changes."""
        names = {name: id(value) for name, value in vars(self.unit).items()}
        for name, value in vars(self.unit).items():
            if isinstance(value, type) and value.__module__ == self.unit.__name__:
                names.update({f"{name}.{attr}": id(member) for attr, member in vars(value).items()})
        return names

    def note_patches(self) -> None:
        if self.current is None:
            return
        now = self.snapshot()
        changed = sorted(name for name in self.pristine.keys() | now.keys() if self.pristine.get(name) != now.get(name))
        mocked = self.current["mocked"]
        mocked.extend(name for name in changed if name not in mocked)

    def note_network(self, address: str) -> None:
        if self.current is not None:
            self.current["network"].append(address)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.only == "hypothesis":
            kept = [item for item in items if _is_property(item)]
            config.hook.pytest_deselected(items=[item for item in items if item not in kept])
            items[:] = kept
        if self.order == "random":
            random.Random(self.seed).shuffle(items)
        elif self.order == "reverse":
            items.reverse()
        self.collected = len(items)
        self.report.write("collected", count=len(items), tests=[] if self.brief else [item.nodeid for item in items])

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.report.write("collect-error", where=report.nodeid, message=_tail(str(report.longrepr)))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
        self.current = {"nodeid": item.nodeid, "asserts": 0, "mocked": [], "network": [], "property": False}
        self.current["property"] = _is_property(item)
        self.records[item.nodeid] = self.current
        random.seed(f"{self.seed}:{item.nodeid}")
        try:
            return (yield)
        finally:
            self.current = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        def expire(signum: int, frame: object) -> None:
            raise TestTimedOut(f"this test was still running after {TEST_TIMEOUT_S} s")

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, TEST_TIMEOUT_S)
        try:
            return (yield)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            self.note_patches()

    def pytest_assertion_pass(self, item: pytest.Item | None, lineno: int, orig: str, expl: str) -> None:
        if self.current is not None:
            self.current["asserts"] += 1
            self.note_patches()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self.records.get(report.nodeid)
        if record is None:
            return
        outcome = _outcome(report)
        first_verdict = record.get("outcome") in (None, "passed")
        if (report.when == "call" or outcome != "passed") and first_verdict:
            record["outcome"] = outcome
            if report.failed:
                record["message"] = _tail(report.longreprtext)
        if report.when == "teardown":
            record.setdefault("outcome", "passed")
            if not (self.brief and record["outcome"] == "passed"):
                self.report.write("test", **record)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.report.write("end", exit=int(exitstatus), collected=self.collected)


class Alone:
    """Runs each test in a child forked from the collected session: it sees no state an earlier test left."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool:
        child = os.fork()
        if child == 0:
            code = 0
            try:
                runtestprotocol(item, nextitem=None, log=True)
            finally:
                os._exit(code)
        os.waitpid(child, 0)
        return True


def _is_property(item: pytest.Item) -> bool:
    function = getattr(item, "obj", None)
    return bool(getattr(function, "is_hypothesis_test", False))


def _outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.when != "call" and report.failed:
        return "error"
    return str(report.outcome)


def _tail(text: str, limit: int = 1500) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]


def count_unittest_assertions(probe: Probe) -> None:
    """unittest's assertion methods count as an assert statement does once they returned; assertRaises and the
    other context managers do not, as pytest.raises does not."""
    for name in dir(unittest.TestCase):
        method = getattr(unittest.TestCase, name)
        if not name.startswith("assert") or name in CONTEXT_ASSERTIONS or not callable(method):
            continue
        setattr(unittest.TestCase, name, _counted(probe, method))


def _counted(probe: Probe, method: Any) -> Any:
    @functools.wraps(method)
    def counted(*args: Any, **kwargs: Any) -> Any:
        result = method(*args, **kwargs)
        probe.pytest_assertion_pass(None, 0, "", "")
        return result

    return counted


def guard_network(probe: Probe) -> None:
    """Connections and lookups beyond loopback fail at once, as they would on a machine with no route."""
    real_connect, real_connect_ex, real_sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def allowed(sock: socket.socket, address: Any) -> bool:
        return sock.family not in (socket.AF_INET, socket.AF_INET6) or is_loopback(address[0])

    def refuse(address: Any) -> OSError:
        probe.note_network(str(address))
        return OSError(101, f"network access is blocked during grading (only loopback): {address!r}")

    def connect(sock: socket.socket, address: Any) -> None:
        if not allowed(sock, address):
            raise refuse(address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if not allowed(sock, address):
            raise refuse(address)
        return real_connect_ex(sock, address)

    def sendto(sock: socket.socket, data: Any, *rest: Any) -> int:
        if not allowed(sock, rest[-1]):
            raise refuse(rest[-1])
        return real_sendto(sock, data, *rest)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_loopback(host.decode() if isinstance(host, bytes) else host):
            raise refuse(host)
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo


def settle_hypothesis() -> None:
    """No example database (the suite's folder may be read-only), no deadline (the machine may be loaded), and
    examples derived from each test, so a verdict replays; 50 of them unless a test asks for more."""
    try:
        from hypothesis import settings
    except ImportError:
        return
    settings.register_profile("labkit", database=None, deadline=None, derandomize=True, max_examples=50)
    settings.load_profile("labkit")


def run_round(plan: dict[str, Any], spec: dict[str, Any], report_fd: int) -> int:
    report = Report(report_fd, spec["id"])
    sys.path.insert(0, spec["unit"])
    unit = importlib.import_module(UNIT)
    if Path(str(unit.__file__)).parent != Path(spec["unit"]):
        report.write("setup-error", message=f"{UNIT} was imported from {unit.__file__}")
        return 3
    seed = f"{plan['seed']}:{spec['id']}"
    brief = bool(spec.get("brief"))
    probe = Probe(report, unit, seed, spec.get("order", "given"), spec.get("only", ""), brief)
    guard_network(probe)
    settle_hypothesis()
    args = [
        "-c",
        plan["ini"],
        "--rootdir",
        ".",
        "--confcutdir",
        ".",
        "-p",
        "no:cacheprovider",
        "-q",
        "--tb=line" if brief else "--tb=short",  # a brief round's failures are counted, not read
        "-rN",
    ]
    args += ["-o", "enable_assertion_pass_hook=true", *(["-x"] if spec.get("stop_first") else []), plan["tests"]]
    return int(pytest.main(args, plugins=[probe, *([Alone()] if spec.get("alone") else [])]))


def warm_up() -> None:
    """Imports what every round imports (pytest's built-in plugins, hypothesis) once, before the rounds fork: each
    round then starts from them instead of importing them again, which is most of a short round's time. Frozen,
    they are also left out of the garbage collections pytest makes in every round."""
    import _pytest.config

    for name in _pytest.config.default_plugins:
        importlib.import_module(f"_pytest.{name}")
    settle_hypothesis()
    gc.freeze()


def wait_within(child: int, limit: float | None) -> tuple[int, bool]:
    """The child's exit code, and whether it was stopped (SIGKILL) for outliving ``limit`` seconds."""
    stopped = False
    waiting = True

    def expire(signum: int, frame: object) -> None:
        nonlocal stopped
        if waiting:
            stopped = True
            os.kill(child, signal.SIGKILL)

    previous = signal.signal(signal.SIGALRM, expire)
    if limit is not None:
        signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        _, status = os.waitpid(child, 0)
        waiting = False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return os.waitstatus_to_exitcode(status), stopped


def main() -> int:
    plan = json.loads(Path(sys.argv[1]).read_text())
    # Hypothesis keeps its files (constants, examples) under the working directory, which is the learner's folder.
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / "hypothesis")
    report_fd = os.dup(1)
    warm_up()
    limit_rule = plan.get("round_limit", {"factor": 4, "margin_s": 5.0})
    first_round_s: float | None = None
    for spec in plan["rounds"]:
        began = time.monotonic()
        child = os.fork()
        if child == 0:
            code = 3
            try:
                code = run_round(plan, spec, report_fd)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        limit = None
        if spec.get("limited") and first_round_s is not None:
            limit = limit_rule["factor"] * first_round_s + limit_rule["margin_s"]
        code, timed_out = wait_within(child, limit)
        if first_round_s is None:
            first_round_s = time.monotonic() - began
        Report(report_fd, spec["id"]).write("exit", code=code, timed_out=timed_out)
        if spec.get("stop_on_failure") and code != 0:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
