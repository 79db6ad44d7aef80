"""The learner's module in several driver processes: real clients of one Redis, calling at the same time.

Starting a Python process that imports redis-py costs a few hundred milliseconds of CPU, so drivers are started
once per run, on first need, and shared by the checks. A driver whose call timed out, that died, or that a check
killed on purpose is replaced before it is used again.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from labkit import context
from labkit.catalog import resolve_run
from labkit.driver import Driver, LearnerRaised
from labkit.errors import CheckFailed
from labkit.fixtures import launch_spec, start_process
from labkit.plugin import GradingState
from labkit.supervisor import LearnerProcess
from labkit.tools.redis_gate import WriteGate

POOL_SIZE = 8
CALL_TIMEOUT_S = 5.0
GATE_WAIT_S = 3.0


class _Watched:
    """A pooled driver as the check's report sees it: one the grader killed itself did not crash."""

    def __init__(self, process: LearnerProcess) -> None:
        self.process = process

    def stderr_tail(self) -> str:
        return self.process.stderr_tail()

    def exit_code(self) -> int | None:
        code = self.process.exit_code()
        return None if code == -signal.SIGKILL else code


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Any, ...]

    def __str__(self) -> str:
        return f"{self.function}({', '.join(repr(arg) for arg in self.args)})"


def call(function: str, *args: Any) -> Call:
    return Call(function, args)


@dataclass(frozen=True)
class Outcome:
    """What one call did: returned ``value``, raised ``raised`` (a type name), or ``failure`` (no answer)."""

    call: Call
    value: Any = None
    raised: str | None = None
    text: str = ""
    failure: CheckFailed | None = None

    def __str__(self) -> str:
        if self.failure is not None:
            return f"{self.call}: {self.failure.message}"
        if self.raised is not None:
            return f"{self.call} raised {self.raised}: {self.text}"
        return f"{self.call} returned {self.value!r}"


class DriverPool:
    def __init__(self, grading: GradingState, env: Mapping[str, str]) -> None:
        self._grading = grading
        self._env = dict(env)
        self._module = resolve_run(grading.lab, grading.impl).module or ""
        self._ready_timeout = resolve_run(grading.lab, grading.impl).ready_timeout
        self._drivers: list[Driver | None] = [None] * POOL_SIZE
        self._check: context.CheckContext | None = None  # the check whose report shows these drivers
        self._attached: set[int] = set()

    def drivers(self, count: int) -> list[Driver]:
        """The first ``count`` drivers, alive and answering; missing ones start in parallel."""
        assert count <= POOL_SIZE, f"the pool has {POOL_SIZE} drivers"
        missing = [i for i in range(count) if not _usable(self._drivers[i])]
        started: dict[int, LearnerProcess] = {}
        for index in missing:
            old = self._drivers[index]
            if old is not None:
                old.process.stop()
            self._drivers[index] = None
            started[index] = start_process(self._grading, launch_spec(self._grading, self._env))
        try:
            for index, process in started.items():
                driver = Driver(process, self._module)
                self._drivers[index] = driver
                self._attach(process)
                driver.wait_ready(self._ready_timeout)
        except BaseException:
            for index, process in started.items():
                process.stop()
                self._drivers[index] = None
            raise
        drivers = [driver for driver in self._drivers[:count] if driver is not None]
        for driver in drivers:
            self._attach(driver.process)
        return drivers

    def kill(self, driver: Driver) -> None:
        """Ends a driver the way a crash would (SIGKILL); it is replaced when next needed."""
        driver.process.send_signal(signal.SIGKILL)
        driver.process.wait_exit(5.0)

    def close(self) -> None:
        for driver in self._drivers:
            if driver is not None:
                driver.process.stop()

    def _attach(self, process: LearnerProcess) -> None:
        """Shows this driver's stderr (and a crash) in the current check's report, once."""
        check = context.current()
        if check is not self._check:
            self._check, self._attached = check, set()
        if id(process) not in self._attached:
            self._attached.add(id(process))
            check.processes.append(_Watched(process))


def _usable(driver: Driver | None) -> bool:
    # A driver that stopped answering is stopped by Driver itself; the rare one it only marks as broken (an
    # out-of-order or oversized reply) has no public flag, hence the getattr.
    return driver is not None and driver.process.exit_code() is None and getattr(driver, "_broken", None) is None


def outcome(driver: Driver, what: Call, timeout: float = CALL_TIMEOUT_S, quiet: bool = False) -> Outcome:
    try:
        return Outcome(what, value=driver.call(what.function, *what.args, timeout=timeout, quiet=quiet))
    except LearnerRaised as raised:
        return Outcome(what, raised=raised.type_name, text=first_line(raised.text))
    except CheckFailed as failure:
        return Outcome(what, failure=failure)


def together(
    drivers: Sequence[Driver],
    calls: Sequence[Call],
    gate: WriteGate | None = None,
    timeout: float = CALL_TIMEOUT_S,
) -> list[Outcome]:
    """Runs call ``n`` in driver ``n``, all at the same time; with a gate, lined up behind it first."""
    assert len(calls) <= len(drivers)
    finished = [0]
    lock = threading.Lock()

    def run(index: int) -> Outcome:
        try:
            return outcome(drivers[index], calls[index], timeout)
        finally:
            with lock:
                finished[0] += 1

    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="learner-call") as executor:
        if gate is None:
            futures = [executor.submit(run, index) for index in range(len(calls))]
        else:
            with gate.closed():
                futures = [executor.submit(run, index) for index in range(len(calls))]
                gate.wait_until_held(lambda: len(calls) - finished[0], GATE_WAIT_S)
        return [future.result() for future in futures]


def in_order_behind_gate(
    drivers: Sequence[Driver], calls: Sequence[Call], gate: WriteGate, timeout: float = CALL_TIMEOUT_S
) -> list[Outcome]:
    """Like ``together``, but each call reaches the gate before the next one starts, so the server runs the
    held calls in this order once the gate opens."""
    assert len(calls) <= len(drivers)
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="learner-call") as executor:
        with gate.closed():
            futures = []
            for index, what in enumerate(calls):
                futures.append(executor.submit(outcome, drivers[index], what, timeout))
                gate.wait_until_held(lambda: sum(not future.done() for future in futures), GATE_WAIT_S)
        return [future.result() for future in futures]


def repeatedly(
    drivers: Sequence[Driver], make_call: Callable[[int, int], Call], rounds: int, timeout: float = CALL_TIMEOUT_S
) -> list[list[Outcome]]:
    """Each driver ``n`` makes ``rounds`` calls ``make_call(n, round)`` one after the other, all drivers at once;
    a driver stops early when a call of its fails to answer."""

    def hammer(index: int) -> list[Outcome]:
        results = []
        for round_ in range(rounds):
            result = outcome(drivers[index], make_call(index, round_), timeout, quiet=True)
            results.append(result)
            if result.failure is not None:
                break
        return results

    with ThreadPoolExecutor(max_workers=len(drivers), thread_name_prefix="learner-hammer") as executor:
        return list(executor.map(hammer, range(len(drivers))))


def first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else ""
