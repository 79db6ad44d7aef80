"""Kit-wide test guards: nothing any grading run started may outlive the test session."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator

import pytest

from labkit.engine import bytecode_cache
from labkit.settings import reset_settings
from labkit.sweep import marked_processes
from support import RUN_PREFIX, SCRATCH, STATE_DIR

MAX_WORKERS = 8
# Implementations, not the kit's tests: testing-quality's solutions and broken scenarios are pytest suites of their
# own, which the grader runs as learner code; this suite must never collect them.
collect_ignore_glob = ["alternatives/*", "scenarios/*", "hostile/*", "polyglot/*"]


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C as a terminal gives it: a suite started as a background job of a script (or under nohup) inherits
    SIGINT ignored, and every program it starts would then ignore the interrupts the tests send it."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers per core this process may use. Most of a test's time is spent waiting for the
    programs it grades (a learner's server, PostgreSQL, a grader's pytest, timeouts it must see expire): with one
    worker more than the cores, 2 cores were measured 56 % busy, so more workers keep them busy. The graders'
    timing checks are built for a loaded machine (CPU time per process, ratios measured in one run, waits with
    room). Each worker is a whole pytest session with its own run prefix and leftover guard."""
    return min(MAX_WORKERS, 2 * len(os.sched_getaffinity(0)))


@pytest.fixture(scope="session", autouse=True)
def no_learner_process_left_behind() -> Iterator[None]:
    yield
    leftovers = marked_processes(RUN_PREFIX, prefix=True)
    described = [f"{p.pid} {' '.join(p.cmdline())}" for p in leftovers]
    for process in leftovers:
        process.kill()
    assert not leftovers, f"learner processes outlived their grading run: {described}"


@pytest.fixture(scope="session", autouse=True)
def no_progress_left_behind() -> Iterator[None]:
    """The progress that gradings of a lab's own folder record goes to a folder of the session's, removed here."""
    yield
    shutil.rmtree(STATE_DIR, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def no_run_folder_left_behind() -> Iterator[None]:
    """Run folders kept for their logs live in the session's scratch folder, removed here; none may hold a copy
    of an instructor's hidden checks even while the session lasts."""
    yield
    hidden = sorted(str(path.relative_to(SCRATCH)) for path in SCRATCH.glob("*/**/hidden_*.py"))
    shutil.rmtree(SCRATCH, ignore_errors=True)
    assert not hidden, f"hidden checks were copied into a run folder and left there: {hidden}"


@pytest.fixture(scope="session", autouse=True)
def no_bytecode_of_temporary_folders_left_behind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The grader caches compiled modules by their source's path (``labkit.engine.bytecode_cache``): those of this
    session's throwaway kits and run folders go with the folders, so the cache keeps only checkouts' modules."""
    yield
    for folder in (SCRATCH, tmp_path_factory.getbasetemp()):
        shutil.rmtree(bytecode_cache() / folder.resolve().relative_to(folder.resolve().anchor), ignore_errors=True)


@pytest.fixture(autouse=True)
def settings_of_its_own() -> Iterator[None]:
    """Each test starts from labkit's settings as the environment gives them, and a test that put its own in
    place (``reset_settings(Settings(...))``) leaves them to no other."""
    reset_settings()
    yield
    reset_settings()
