"""`labkit watch` on a copy of a solution: a save starts a new grading, a save mid-run stops the run in progress,
and Ctrl-C leaves no process and no scratch folder behind, also when it arrives while a grading is being started."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from labkit.watch import ImplementationFilter, _interruptible_once_started, _signals_held, first_failure
from support import KIT, RUN_PREFIX, LineReader

DEADLINE_S = 240.0  # a whole grading on a loaded two-core machine, with room to spare


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], LineReader, Path, Path]]:
    impl, scratch = tmp_path / "impl", tmp_path / "tmp"
    shutil.copytree(KIT / "solutions" / "tcp-kv", impl)
    scratch.mkdir()
    env = {**os.environ, "COLUMNS": "120", "LABKIT_RUN_ID_PREFIX": RUN_PREFIX, "TMPDIR": str(scratch)}
    process = subprocess.Popen(
        [sys.executable, "-m", "labkit", "watch", "tcp-kv", "--impl", str(impl), "--stage", "2"],
        cwd=KIT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        yield process, LineReader(process), impl, scratch
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_save_regrades_and_a_save_mid_run_stops_that_run(watched: tuple) -> None:  # type: ignore[type-arg]
    process, output, impl, scratch = watched
    first = output.wait_for("watching", DEADLINE_S)
    assert any("grading tcp-kv (first run)" in line for line in first)
    assert any("✓ passed" in line and "20/20" in line for line in first)

    _save(impl / "server.py")
    regrade = output.wait_for("grading tcp-kv", DEADLINE_S)
    assert "server.py changed" in regrade[-1] and len(regrade) == 1, "the save must be the next thing reported"

    _save(impl / "server.py")  # while that grading runs: it is stopped, and a new one starts
    stopped = output.wait_for("grading tcp-kv", DEADLINE_S)
    assert any("stopping the grading in progress" in line for line in stopped)
    assert not any("Score" in line for line in stopped), "the stopped run must not report a score"
    assert any("✓ passed" in line for line in output.wait_for("watching", DEADLINE_S))

    _save(impl / "server.py")
    output.wait_for("grading tcp-kv (server.py changed)", DEADLINE_S)
    family = _children_once_started(process.pid)
    process.send_signal(signal.SIGINT)  # Ctrl-C, mid-run
    assert process.wait(timeout=DEADLINE_S) == 0
    tail = output.wait_for("labkit watch: stopped", DEADLINE_S)
    assert tail and not any("Traceback" in line for line in output.lines), "\n".join(output.lines)
    _, alive = psutil.wait_procs(family, timeout=10)
    assert not alive, f"processes outlived labkit watch: {alive}"
    assert list(scratch.iterdir()) == [], "a scratch folder outlived labkit watch"


def _children_once_started(pid: int) -> list[psutil.Process]:
    """The grading's processes: the rule that announces a grading is printed just before its child starts."""
    for _ in range(100):
        family = psutil.Process(pid).children(recursive=True)
        if family:
            return family
        time.sleep(0.1)
    pytest.fail("no grading process started")


def _save(path: Path) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write("# saved\n")


def test_first_failure_names_the_first_check_that_did_not_pass() -> None:
    lab = {
        "points": 5.0,
        "max_points": 100,
        "stages": [
            {"index": 1, "slug": "connect", "checks": [{"name": "accepts", "status": "passed", "message": ""}]},
            {"index": 2, "slug": "framing", "checks": [
                {"name": "split frames", "status": "passed", "message": ""},
                {"name": "two in one", "status": "failed", "message": "got one reply\nmore"},
                {"name": "later", "status": "timeout", "message": "timed out"},
            ]},
        ],
    }  # fmt: skip
    verdict = first_failure(lab)
    assert verdict.failure == "stage 2 framing · two in one" and verdict.message == "got one reply\nmore"
    assert first_failure({**lab, "stages": lab["stages"][:1]}).failure is None


def test_caches_and_logs_are_not_saves(tmp_path: Path) -> None:
    from watchfiles import Change

    keep = ImplementationFilter()
    assert keep(Change.modified, str(tmp_path / "server.py"))
    for ignored in ("__pycache__/server.cpython-311.pyc", "server.log", ".server.py.swp", "server.py~"):
        assert not keep(Change.modified, str(tmp_path / ignored)), ignored


def test_ctrl_c_while_a_grading_starts_is_delivered_once_it_is_known() -> None:
    """Held back inside the block (where Popen runs), raised right after it, with the handler of before."""
    reached_the_end = False

    def start_a_grading() -> None:
        nonlocal reached_the_end
        with _signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            reached_the_end = True

    with pytest.raises(KeyboardInterrupt):
        start_a_grading()
    assert reached_the_end
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_grading_stopped_while_its_interpreter_starts_ends_quietly() -> None:
    """A save right after a grading started: the stop waits until `python -m labkit` can take it (exit 130)."""
    for _ in range(5):
        child = subprocess.Popen(
            [sys.executable, "-m", "labkit", "list"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_interruptible_once_started,
        )
        child.send_signal(signal.SIGINT)  # Popen has returned: the child is starting its interpreter
        _, stderr = child.communicate(timeout=60)
        assert child.returncode == 130, stderr
        assert "Traceback" not in stderr, stderr
