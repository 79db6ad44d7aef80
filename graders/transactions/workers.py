"""The learner's module in several driver processes at once: real connections, real concurrency.

Driver processes are started once per run and shared by the checks (starting a Python process that imports a
database driver costs a few hundred milliseconds); a driver whose call timed out, or that died, is replaced
before the next check.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from labkit import context, fixtures
from labkit.catalog import resolve_run
from labkit.driver import Driver, LearnerRaised
from labkit.errors import CheckFailed
from labkit.fixtures import launch_spec
from labkit.plugin import GradingState
from labkit.supervisor import LaunchSpec, LearnerProcess

POOL_SIZE = 8
CALL_TIMEOUT_S = 4.0
BACKSTOP_TIMEOUT_S = 30.0  # concurrent calls are timed by Batch.outcomes(); this only bounds a lost reply


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
    """What one call did: returned ``value``, raised ``raised`` (the exception's type name), or ``failure``
    (no answer in time, or the process died)."""

    call: Call
    value: Any = None
    raised: str | None = None
    text: str = ""
    failure: CheckFailed | None = None

    @property
    def returned(self) -> bool:
        return self.raised is None and self.failure is None

    def __str__(self) -> str:
        if self.failure is not None:
            return f"{self.call}: {self.failure.message}"
        if self.raised is not None:
            return f"{self.call} raised {self.raised}: {self.text}"
        return f"{self.call} returned {self.value!r}"


class _Watched:
    """How a pooled driver looks to the check's report: a driver the grader killed itself because a call did not
    return is not a crash of the learner's program (the check says what did not return)."""

    def __init__(self, process: LearnerProcess) -> None:
        self.process = process

    def stderr_tail(self) -> str:
        return self.process.stderr_tail()

    def exit_code(self) -> int | None:
        code = self.process.exit_code()
        return None if code == -signal.SIGKILL else code


class WorkerPool:
    def __init__(self, grading: GradingState, env: Mapping[str, str]) -> None:
        self._grading = grading
        self._env = dict(env)
        self._run = resolve_run(grading.lab, grading.impl)
        self._drivers: list[Driver | None] = [None] * POOL_SIZE
        self._suspect: set[int] = set()
        self.migrated = False  # migrate() runs once per run, on the first check

    def ready(self) -> list[Driver]:
        """Every driver alive and answering, attached to the current check so its stderr shows in reports."""
        stale = [
            index
            for index, driver in enumerate(self._drivers)
            if driver is None or driver.process.exit_code() is not None or index in self._suspect
        ]
        for index in stale:
            old = self._drivers[index]
            if old is not None:
                old.process.stop()
            self._drivers[index] = None
        started = {index: _start_process(self._grading, launch_spec(self._grading, self._env)) for index in stale}
        try:
            for index, process in started.items():
                driver = Driver(process, self._run.module or "")
                driver.wait_ready(self._run.ready_timeout)
                self._drivers[index] = driver
        except BaseException:
            for index, process in started.items():
                process.stop()
                self._drivers[index] = None
            raise
        finally:
            for process in started.values():
                context.current().processes.append(_Watched(process))
        self._suspect.clear()
        drivers = [driver for driver in self._drivers if driver is not None]
        for driver in drivers:
            if driver.process not in started.values():
                context.current().processes.append(_Watched(driver.process))
        return drivers

    def replace_all(self) -> None:
        """The next ``ready()`` starts every driver afresh (their connections were ended by the grader)."""
        self._suspect.update(range(POOL_SIZE))

    def kill(self, index: int) -> None:
        """Ends a driver whose call must not be waited for; the call then fails and ready() replaces it."""
        driver = self._drivers[index]
        if driver is not None:
            driver.process.send_signal(signal.SIGKILL)
            self._suspect.add(index)

    def close(self) -> None:
        for driver in self._drivers:
            if driver is not None:
                driver.process.stop()

    def outcome(self, index: int, what: Call, timeout: float = CALL_TIMEOUT_S, quiet: bool = False) -> Outcome:
        driver = self._drivers[index]
        assert driver is not None, "ready() starts every driver before a check calls them"
        try:
            return Outcome(what, value=driver.call(what.function, *what.args, timeout=timeout, quiet=quiet))
        except LearnerRaised as raised:
            return Outcome(what, raised=raised.type_name, text=first_line(raised.text))
        except CheckFailed as failure:
            self._suspect.add(index)
            return Outcome(what, failure=failure)


class Batch:
    """Calls running at the same time, one per driver process (call ``n`` runs in driver ``n``)."""

    def __init__(self, pool: WorkerPool, calls: Sequence[Call]) -> None:
        assert 0 < len(calls) <= POOL_SIZE, f"a batch runs at most {POOL_SIZE} calls at once"
        self._pool = pool
        self._calls = list(calls)
        self._executor = ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="learner-call")
        self._futures: list[Future[Outcome]] = [
            self._executor.submit(pool.outcome, index, what, BACKSTOP_TIMEOUT_S) for index, what in enumerate(calls)
        ]

    def finished(self) -> int:
        return sum(future.done() for future in self._futures)

    def outcomes(self, within: float = CALL_TIMEOUT_S) -> list[Outcome]:
        """What every call did, waiting at most ``within`` seconds from now (for a race: from the moment the
        grader released its locks); a call still running then is stopped and reported as not returning."""
        deadline = time.monotonic() + within
        results = []
        try:
            for index, future in enumerate(self._futures):
                try:
                    results.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
                except FutureTimeout:
                    self._pool.kill(index)
                    future.result()
                    failure = CheckFailed(
                        f"your {self._calls[index].function}() did not return within {within:g} s",
                        hint="look for a wait that never ends: a lock never released, a blocking read, an endless "
                        "retry",
                    )
                    results.append(Outcome(self._calls[index], failure=failure))
            return results
        finally:
            self._executor.shutdown(wait=True)


def _start_process(grading: GradingState, spec: LaunchSpec) -> LearnerProcess:
    """Starts a driver the way the harness's own ``start_driver`` does (through ``start_process`` where the
    harness has it, so a sandbox option applies to these drivers too)."""
    start = getattr(fixtures, "start_process", None)
    return start(grading, spec) if start is not None else LearnerProcess.start(spec)


def first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else ""
