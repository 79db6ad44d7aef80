"""Several driver processes calling the learner's module at the same time: real concurrency, judged call by call.

Functions that must hold up under concurrent callers (a wallet on PostgreSQL, a lock on Redis) are called from a
pool of driver processes, each a client of its own. Starting a Python process that imports a database client costs
a few hundred milliseconds, so a pool lives as long as its fixture's scope and its drivers are shared by the
checks; a driver that hung, crashed or was killed is replaced the next time it is needed. In a lab's conftest.py::

    pool = driver_pool_fixture(size=8, env=lambda lab_redis: {"REDIS_URL": lab_redis.learner_url})

and in a stage::

    outcomes = pool.run([call("acquire", "report", 10_000)] * 8, gate=gate)
    expect_answers(outcomes)

``run`` issues call n in driver n, all at once, optionally lined up behind a :class:`Gate` that opens only once
every call waits at it, and returns an :class:`Outcome` per call; ``expect_answers`` turns a call that hung,
crashed or raised an undocumented exception into the verdict the learner reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from types import TracebackType
from typing import Any, Literal, Protocol

import pytest

from labkit import context
from labkit.calls import Call, Outcome, call, describe, expect_answers
from labkit.catalog import resolve_run
from labkit.driver import CallTimedOut, Driver, LearnerRaised
from labkit.errors import CheckFailed
from labkit.fixtures import launch_driver
from labkit.learners import fixture_env
from labkit.plugin import GradingState
from labkit.wait import until

CALL_TIMEOUT_S = 5.0
GATE_WAIT_S = 3.0
BACKSTOP_TIMEOUT_S = 60.0  # a call of a batch is timed by Batch.outcomes(); this only bounds a reply that never comes
POLL_S = 0.005
HANG_HINT = "look for a wait that never ends: a lock never released, a blocking read, an endless retry"

Scope = Literal["session", "package", "module", "class", "function"]

__all__ = [
    "Batch",
    "Call",
    "DriverPool",
    "Gate",
    "Outcome",
    "call",
    "describe",
    "driver_pool_fixture",
    "expect_answers",
]


class Gate(Protocol):
    """Something the grader holds closed while concurrent calls start, so that a race happens on every run, not
    once in a while: a pause of Redis writes (``labkit.tools.redis_gate.WriteGate``), row locks in PostgreSQL."""

    def close(self) -> None:
        """Starts holding the learner's calls (at their first write, or their first lock)."""

    def held(self) -> int:
        """How many of the learner's calls wait at the gate right now."""

    def open(self) -> bool:
        """Lets the held calls through, all or the next group of them; True once the gate is fully open (and at
        once when it already is)."""


class Batch:
    """Calls running at the same time, call n in driver n (``rounds`` times over, one after another), as
    :meth:`DriverPool.start` returns them. :meth:`outcomes` collects them; leaving a ``with`` block without
    collecting kills the drivers of the calls still running."""

    def __init__(self, drivers: Sequence[Driver], calls: Sequence[Call], rounds: int, within: float) -> None:
        self._drivers = list(drivers)
        self._calls = list(calls)
        self._rounds = rounds
        self._within = within
        self._executor = ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="learner-call")
        self._futures: list[Future[list[Outcome]]] = []
        self._collected = False

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if not self._collected:
            self._abandon()

    def finished(self) -> int:
        """How many drivers are done with their calls."""
        return sum(future.done() for future in self._futures)

    def outcomes(self, within: float | None = None) -> list[Outcome]:
        """What every call did, waiting at most ``within`` seconds from now for each round (by default the
        ``within`` the batch was started with); a call still running then is stopped by killing its driver and
        reported as not returning in time."""
        limit = self._within if within is None else within
        # One deadline for all the calls, each awaited (blocking, not polled) for what is left of it.
        deadline = time.monotonic() + limit * self._rounds
        results: list[Outcome] = []
        try:
            for index, future in enumerate(self._futures):
                try:
                    done = future.result(timeout=max(0.0, deadline - time.monotonic()))
                except FutureTimeout:
                    self._drivers[index].kill()
                    done = future.result()
                    if done[-1].failure is not None:  # the call in flight when the time ran out
                        done[-1] = _hung(done[-1].call, limit)
                results.extend(done)
        except BaseException:
            self._abandon()
            raise
        self._collected = True
        self._executor.shutdown(wait=True)
        return results

    def _submit(self, index: int) -> None:
        self._futures.append(self._executor.submit(self._work, index))

    def _unfinished(self) -> int:
        return len(self._futures) - self.finished()

    def _work(self, index: int) -> list[Outcome]:
        driver, what = self._drivers[index], self._calls[index]
        if self._rounds == 1:
            return [_outcome(driver, what, BACKSTOP_TIMEOUT_S, quiet=False)]
        results = []
        for _ in range(self._rounds):
            results.append(_outcome(driver, what, self._within, quiet=True))
            if results[-1].failure is not None:
                break
        return results

    def _abandon(self) -> None:
        """Ends what is still running, so that no call outlives the check that started it."""
        self._collected = True
        for index, future in enumerate(self._futures):
            if not future.done():
                self._drivers[index].kill()
        self._executor.shutdown(wait=True)


class DriverPool:
    """``size`` driver processes of the learner's module sharing one environment, started on first need and
    replaced when no longer usable. Made by :func:`driver_pool_fixture`, which also stops them."""

    def __init__(
        self, size: int, env: Mapping[str, str], *, launch: Callable[[Mapping[str, str]], Driver], ready_timeout: float
    ) -> None:
        self.size = size
        self._env = dict(env)
        self._launch = launch
        self._ready_timeout = ready_timeout
        self._drivers: list[Driver | None] = [None] * size
        self._check: context.CheckContext | None = None
        self._shown: set[int] = set()

    def ready(self, count: int | None = None) -> list[Driver]:
        """The first ``count`` drivers (all by default), each usable: any that is not (never started, dead,
        killed, broken by a hang) is replaced, all replacements starting at once. They show in the current
        check's report: their stderr, and an exit the grader did not cause."""
        count = self.size if count is None else count
        if not 0 < count <= self.size:
            raise ValueError(f"a pool of {self.size} drivers cannot give {count}")
        drivers, started = [], []
        for index in range(count):
            driver = self._drivers[index]
            if driver is None or not driver.usable:
                if driver is not None:
                    driver.stop()
                driver = self._drivers[index] = self._launch(self._env)
                started.append(driver)
            self._show(driver)
            drivers.append(driver)
        for driver in started:
            driver.wait_ready(self._ready_timeout)
        return drivers

    def kill(self, index: int) -> None:
        """Ends driver ``index`` as a crash would (SIGKILL): a call of its in flight fails, and the next
        :meth:`ready` replaces it. The report does not count this exit as the learner's."""
        driver = self._drivers[index]
        if driver is not None:
            driver.kill()

    def outcome(self, index: int, what: Call, within: float = CALL_TIMEOUT_S) -> Outcome:
        """What ``what`` did in driver ``index``, given ``within`` seconds to return."""
        return _outcome(self.ready(index + 1)[index], what, within, quiet=False)

    def run(
        self,
        calls: Sequence[Call],
        *,
        gate: Gate | None = None,
        in_order: bool = False,
        rounds: int = 1,
        within: float = CALL_TIMEOUT_S,
        gate_wait: float = GATE_WAIT_S,
    ) -> list[Outcome]:
        """Runs call n in driver n, all at the same time, and returns what each did (rounds after rounds).

        With a ``gate``, the grader closes it first, waits (up to ``gate_wait`` seconds) until every call still
        running waits at it, then opens it, step by step if it opens in steps; with ``in_order``, each call
        reaches the gate before the next one starts, so the held calls go through in this order. Each call has
        ``within`` seconds from the moment it may run (the gate opened, or its previous round returned). With
        ``rounds``, each driver makes its call that many times, one after the other, and stops at the first
        that does not answer; the outcomes of driver 0 come first.
        """
        with self.start(
            calls, gate=gate, in_order=in_order, rounds=rounds, within=within, gate_wait=gate_wait
        ) as batch:
            return batch.outcomes()

    def start(
        self,
        calls: Sequence[Call],
        *,
        gate: Gate | None = None,
        in_order: bool = False,
        rounds: int = 1,
        within: float = CALL_TIMEOUT_S,
        gate_wait: float = GATE_WAIT_S,
    ) -> Batch:
        """Like :meth:`run`, but returns the running :class:`Batch` (once the gate is open), for a check that
        watches the calls while they run."""
        if not calls or rounds < 1:
            raise ValueError("a batch needs at least one call and one round")
        batch = Batch(self.ready(len(calls)), calls, rounds, within)
        try:
            if gate is None:
                for index in range(len(calls)):
                    batch._submit(index)
            else:
                _through_gate(gate, batch, len(calls), in_order, gate_wait)
        except BaseException:
            batch._abandon()
            raise
        return batch

    def close(self) -> None:
        """Stops every driver process (and whatever it started)."""
        for driver in self._drivers:
            if driver is not None:
                driver.stop()
        self._drivers = [None] * self.size

    def _show(self, driver: Driver) -> None:
        check = context.current()
        if check is not self._check:
            self._check, self._shown = check, set()
        if id(driver) not in self._shown:
            self._shown.add(id(driver))
            check.processes.append(_InReport(driver))


class _InReport:
    """A pooled driver as the check's report sees it: an exit the grader caused (a hang it stopped, a kill, a
    replacement) is not the learner's crash."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver

    def stderr_tail(self) -> str:
        return self.driver.process.stderr_tail()

    def exit_code(self) -> int | None:
        return self.driver.process.exit_code()

    @property
    def stopped_by_grader(self) -> bool:
        return self.driver.ended_by_grader


def driver_pool_fixture(
    size: int,
    env: Mapping[str, str] | Callable[..., Mapping[str, str]] | None = None,
    *,
    scope: Scope = "session",
) -> Callable[..., Any]:
    """A fixture giving a :class:`DriverPool` of ``size`` drivers, for a lab's conftest.py::

        pool = driver_pool_fixture(size=8, env=lambda bank_database: {"DATABASE_URL": bank_database.dsn()})

    ``env`` adds variables to the drivers' environment: a mapping, or a function of other fixtures (named by its
    parameters) returning one. The pool lives for ``scope``; at its end every driver process is stopped.
    """

    def pool(grading: GradingState, request: pytest.FixtureRequest) -> Iterator[DriverPool]:
        variables = fixture_env(env, request)
        ready_timeout = resolve_run(grading.lab, grading.config.impl).ready_timeout
        drivers = DriverPool(size, variables, launch=partial(launch_driver, grading), ready_timeout=ready_timeout)
        try:
            yield drivers
        finally:
            drivers.close()

    return pytest.fixture(scope=scope)(pool)


def _outcome(driver: Driver, what: Call, timeout: float, *, quiet: bool) -> Outcome:
    try:
        return Outcome(what, value=driver.call(what.function, *what.args, timeout=timeout, quiet=quiet))
    except LearnerRaised as raised:
        return Outcome(what, raised=raised.type_name, text=_first_line(raised.text))
    except CallTimedOut as failure:
        return Outcome(what, failure=failure, hung=True)
    except CheckFailed as failure:
        return Outcome(what, failure=failure, stderr=driver.process.stderr_tail())


def _hung(what: Call, within: float) -> Outcome:
    failure = CheckFailed(f"your {what.function}() did not return within {within:g} s", hint=HANG_HINT)
    return Outcome(what, failure=failure, hung=True)


def _through_gate(gate: Gate, batch: Batch, count: int, in_order: bool, patience: float) -> None:
    """Starts the batch's calls behind the closed gate, then opens it once they wait there."""
    try:
        gate.close()
        for index in range(count):
            batch._submit(index)
            if in_order:
                _wait_until_held(gate, batch, patience)
        held = _wait_until_held(gate, batch, patience)
        context.log(f"grader: {held} of {count} calls wait at the gate; opening it")
        while not gate.open():
            _wait_until_held(gate, batch, patience)
    finally:
        while not gate.open():
            pass


def _wait_until_held(gate: Gate, batch: Batch, patience: float) -> int:
    """Polls until every call still running waits at the gate; gives up after ``patience`` seconds, since a call
    busy elsewhere (in a sleep, say) cannot be lined up anyway. Returns how many were held."""
    if until(lambda: gate.held() >= batch._unfinished(), patience, interval=POLL_S) is None:
        context.log(f"grader: not every call reached the gate within {patience:g} s")
    return gate.held()


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else ""
