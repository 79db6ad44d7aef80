"""Fixtures every grader can use: the learner's program, seeded randomness, and fresh services per check."""

from __future__ import annotations

import itertools
import random
import shutil
import sys
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import pytest

from labkit import context, driver_main
from labkit.catalog import Lab, resolve_run
from labkit.driver import Driver
from labkit.errors import CheckFailed
from labkit.learners import RunInfo
from labkit.plugin import GradingState, state_of
from labkit.ports import free_port
from labkit.readiness import Readiness
from labkit.supervisor import LaunchSpec, LearnerProcess
from labkit.sweep import adopt_orphans, kill_descendants

_launches = itertools.count(1)

StartLearner = Callable[..., LearnerProcess]
StartDriver = Callable[..., Driver]


@pytest.fixture(scope="session")
def grading(request: pytest.FixtureRequest) -> GradingState:
    return state_of(request.config)


@pytest.fixture(scope="session", autouse=True)
def _nothing_outlives_the_run(grading: GradingState) -> Iterator[None]:
    """Nothing a learner started survives the run or touches its results.

    The grader adopts the run's orphans, so a daemon that left its process group and dropped its marker is still
    its descendant; after the last check and service are torn down (autouse: set up first, torn down last), every
    descendant is killed, before the plugin writes the results file that such a daemon could rewrite. Anything
    already at that path (a file, a directory, a FIFO or a link a learner planted) is removed so the write holds.
    """
    adopt_orphans()
    yield
    kill_descendants()
    results = grading.config.results_path
    if results.is_dir() and not results.is_symlink():
        shutil.rmtree(results, ignore_errors=True)
    else:
        results.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def run_info(grading: GradingState) -> RunInfo:
    """The facts of this run a grader may use: lab, implementation folder, scratch folder, seed, sandbox."""
    return RunInfo.of(grading)


@pytest.fixture(scope="session")
def lab(grading: GradingState) -> Lab:
    return grading.lab


@pytest.fixture(scope="session")
def impl_dir(grading: GradingState) -> Path:
    return grading.config.impl


@pytest.fixture
def rng(grading: GradingState, request: pytest.FixtureRequest) -> random.Random:
    """Randomness derived from the run's seed and the check's id, so one check replays without the others."""
    return random.Random(grading.config.choices.seed ^ zlib.crc32(request.node.nodeid.encode()))


def launch_spec(
    grading: GradingState,
    env: Mapping[str, str] | None = None,
    *,
    port: int | Literal["free"] | None = "free",
    args: Sequence[str] = (),
    impl: Path | None = None,
    module: str | None = None,
    module_path: Sequence[Path] = (),
    program: Path | None = None,
) -> LaunchSpec:
    """``port``: a free one is chosen by default; a cluster node brings its own, a client run has none.
    ``args`` are appended to the lab's (or run.toml's) command. ``impl``: a driver's folder other than the
    implementation's (a copy the grader prepared); the command and limits stay the implementation's.
    ``module`` starts a driver for that module instead (in a lab of any kind), found first in ``module_path``
    (folders under the run folder), then in the learner's. ``program``: another implementation folder, run with
    its own command (the kit's reference solution, as a yardstick)."""
    config = grading.config
    run = resolve_run(grading.lab, program or config.impl)
    folder = impl or program or config.impl
    port = free_port() if port == "free" else port
    substitutions = {"{python}": sys.executable, **({"{port}": str(port)} if port is not None else {})}
    command = tuple(substitutions.get(part, part) for part in run.command) + tuple(args)
    driven = module or (run.module if run.kind == "driver" else None)
    if run.kind == "driver":
        assert run.module is not None, "the catalog requires run.module for driver labs"
    if driven is not None:
        main = str(Path(driver_main.__file__))
        paths = [argument for path in module_path for argument in ("--path", str(path))]
        # -I ignores PYTHONDONTWRITEBYTECODE: -B keeps bytecode out of the learner's folder, where a cache written
        # by one grading could outlive a save of the same size within the same second and be run by the next.
        command = (sys.executable, "-I", "-B", main, str(folder), driven, *paths)
    number = next(_launches)
    return LaunchSpec(
        command=command,
        cwd=folder,
        logs=config.run_dir / "learner" / str(number),
        marker=f"{config.run_id}.{number}",
        limits=grading.lab.limits,
        port=port,
        extra_env=env,
        pipes=driven is not None,
    )


def start_process(grading: GradingState, spec: LaunchSpec) -> LearnerProcess:
    """Starts one learner process: on this machine, or in a sandbox container with ``--sandbox docker``."""
    if grading.config.choices.sandbox.in_container:
        from labkit.sandbox import SandboxedProcess

        return SandboxedProcess.launch(
            spec, grading.config.run_id, grading.config.run_dir, grading.config.choices.sandbox
        )
    return LearnerProcess.start(spec)


def start_ready(
    grading: GradingState,
    started: list[LearnerProcess],
    env: Mapping[str, str] | None = None,
    *,
    ready: Readiness | None = None,
    args: Sequence[str] = (),
    writable: Sequence[Path] = (),
) -> LearnerProcess:
    """Starts the learner's program and waits until it is ready by the lab's strategy (or ``ready``).
    ``writable`` names folders the program keeps state in across restarts (writable in the Docker sandbox too)."""
    run = resolve_run(grading.lab, grading.config.impl)
    spec = replace(launch_spec(grading, env, args=args), writable=tuple(writable))
    process = start_process(grading, spec)
    started.append(process)
    context.watch(process)
    context.log(f"started your program (pid {process.pid}) with PORT={process.port}")
    wait_ready(grading, process, ready or run.ready, run.ready_timeout)
    return process


def wait_ready(grading: GradingState, process: LearnerProcess, readiness: Readiness, timeout: float) -> None:
    """Waits until a fresh start of the learner's program is ready. After one that ran but never became ready in
    this stage, the wait is FRESH_AGAIN_S at most, and the failure repeats the first finding."""
    stage = grading.stage.slug if grading.stage is not None else ""
    earlier = grading.never_ready.get(stage)
    wait_s = min(timeout, FRESH_AGAIN_S) if earlier is not None else timeout
    try:
        readiness.wait(process, wait_s)
    except CheckFailed as failure:
        if process.exit_code() is not None:
            raise  # it exited: that says nothing about how long a start takes
        if earlier is None:
            grading.never_ready[stage] = failure
            raise
        raise CheckFailed(
            f"{earlier.message} (as when an earlier check of this stage started it; started again, it was not "
            f"ready within {wait_s:g} s either, so not waited for longer)",
            expected=earlier.expected,
            got=earlier.got,
            hint=earlier.hint,
        ) from None
    grading.never_ready.pop(stage, None)


AGAIN_S = 1.0
# A fresh start of a program that, started earlier in the same stage, ran but never became ready: long enough for
# an interpreter or a cached build on a loaded machine, short enough that a stage of ten such checks fails quickly.
# The stage has failed by then: this wait decides only how soon its later checks say so.
FRESH_AGAIN_S = 1.5


def wait_ready_again(
    grading: GradingState, process: LearnerProcess, first: CheckFailed, *, ready: Readiness | None
) -> None:
    """A program an earlier check started, still running but never ready, gets one short look (it may just have
    been slow) before this check fails with the earlier check's finding, instead of the whole wait again."""
    run = resolve_run(grading.lab, grading.config.impl)
    try:
        (ready or run.ready).wait(process, AGAIN_S)
    except CheckFailed:
        raise CheckFailed(
            f"{first.message} (when an earlier check started it; still not ready "
            f"{AGAIN_S:g} s later, so not waited for again)",
            expected=first.expected,
            got=first.got,
            hint=first.hint,
        ) from None
    context.log(f"your program (pid {process.pid}) became ready after an earlier check gave up waiting")


@pytest.fixture
def start_learner(grading: GradingState) -> Iterator[StartLearner]:
    """A factory: each call starts one more instance of the learner's program and waits until it is ready.
    ``start_learner(env={"DATABASE_URL": postgres.dsn()})`` adds variables to its allow-listed environment,
    ``args=[...]`` arguments to its command, ``ready=`` a readiness strategy other than the lab's (a
    ``TlsReady`` with this run's CA, say), ``writable=[folder]`` folders it keeps state in: a program killed
    (``process.stop()`` is SIGKILL) and started again on the same folder finds its data there, in the sandbox too."""
    started: list[LearnerProcess] = []

    def start(
        env: Mapping[str, str] | None = None,
        *,
        ready: Readiness | None = None,
        args: Sequence[str] = (),
        writable: Sequence[Path] = (),
    ) -> LearnerProcess:
        return start_ready(grading, started, env, ready=ready, args=args, writable=writable)

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def learner(start_learner: StartLearner) -> LearnerProcess:
    """The learner's program, started fresh for this check and ready on ``learner.port``."""
    return start_learner()


@pytest.fixture(scope="module")
def _stage_processes(grading: GradingState) -> Iterator[list[LearnerProcess]]:
    started: list[LearnerProcess] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
def stage_learner(grading: GradingState, _stage_processes: list[LearnerProcess]) -> LearnerProcess:
    """One learner program shared by the checks of a stage (a stage is a module), restarted if a check left it
    dead, so a crash is reported by the check that caused it and does not cascade. Use ``learner`` instead when
    a check stops or signals the program."""
    if _stage_processes and _stage_processes[-1].exit_code() is None:
        process = _stage_processes[-1]
        context.current().processes.append(process)
        return process
    return start_ready(grading, _stage_processes)


def launch_driver(
    grading: GradingState,
    env: Mapping[str, str] | None = None,
    *,
    impl: Path | None = None,
    module: str | None = None,
    module_path: Sequence[Path] = (),
    adapter: Path | None = None,
    writable: Sequence[Path] = (),
) -> Driver:
    """Starts a driver process for the learner's module (or ``module``); ``wait_ready`` is the caller's, so several
    can start at once. ``adapter``: a grader-owned module the driver puts between the grader and the module (see
    ``labkit.driver_main``); ``writable``: folders the learner's code keeps files in across driver processes."""
    run = resolve_run(grading.lab, grading.config.impl)
    spec = launch_spec(grading, env, impl=impl, module=module, module_path=module_path)
    spec = replace(spec, writable=tuple(writable))
    if adapter is not None:
        spec = replace(spec, command=(*spec.command, "--adapter", str(_shared_adapter(grading, adapter))))
    return Driver(start_process(grading, spec), module or run.module or "")


def _shared_adapter(grading: GradingState, adapter: Path) -> Path:
    """A copy of the adapter in the run folder, which a sandboxed driver sees at the same path."""
    folder = grading.config.run_dir / "driver-adapters"
    folder.mkdir(mode=0o755, exist_ok=True)
    copy = folder / adapter.name
    copy.write_bytes(adapter.read_bytes())
    copy.chmod(0o644)
    return copy


@pytest.fixture
def start_driver(grading: GradingState) -> Iterator[StartDriver]:
    """Driver labs: a factory of driver processes, each importing the learner's module in its own process.
    ``start_driver(env={"DATABASE_URL": ...})`` adds variables; several drivers give real concurrency (or use
    ``labkit.pool.driver_pool_fixture`` for a pool shared by many checks). ``start_driver(impl=folder)`` imports
    the module from another folder: a copy of the implementation the grader changed (a module added or removed),
    or code of the kit's own, under the run's scratch folder (``run_info.run_dir``). In a lab of any kind,
    ``start_driver(module="probe", module_path=[folder])`` imports a grader's own module instead, placed in a
    folder under ``run_info.run_dir``, that can import the learner's modules: e.g. to hand them the grader's fakes.
    ``adapter=`` and ``writable=`` as in :func:`launch_driver`."""
    started: list[LearnerProcess] = []
    ready_timeout = resolve_run(grading.lab, grading.config.impl).ready_timeout

    def start(
        env: Mapping[str, str] | None = None,
        *,
        impl: Path | None = None,
        module: str | None = None,
        module_path: Sequence[Path] = (),
        adapter: Path | None = None,
        writable: Sequence[Path] = (),
    ) -> Driver:
        driver = launch_driver(
            grading, env, impl=impl, module=module, module_path=module_path, adapter=adapter, writable=writable
        )
        started.append(driver.process)
        context.current().processes.append(driver.process)
        driver.wait_ready(ready_timeout)
        return driver

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def driver(start_driver: StartDriver) -> Driver:
    """One driver process for this check, with the learner's module imported."""
    return start_driver()


@pytest.fixture(scope="session")
def _run_processes(grading: GradingState) -> Iterator[list[LearnerProcess]]:
    started: list[LearnerProcess] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
def run_learner(grading: GradingState, _run_processes: list[LearnerProcess]) -> LearnerProcess:
    """One learner program for the whole run, restarted only if a check left it dead: for programs whose start-up
    is slow (code generation, a runtime's warm-up) and whose stages do not need a fresh process."""
    if _run_processes and _run_processes[-1].exit_code() is None:
        context.current().processes.append(_run_processes[-1])
        return _run_processes[-1]
    return start_ready(grading, _run_processes)
