"""SIGTERM (what `timeout` and a cancelled CI job send) tears `labkit grade` down exactly as Ctrl-C does."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from labkit.sweep import marked_processes
from support import KIT, RUN_PREFIX

DEADLINE_S = 120.0  # generous: two shared cores, and PostgreSQL starts first


def _started_grading(labkit: subprocess.Popen[str], prefix: str, wanted: str) -> set[psutil.Process]:
    """Waits until a marked process of this run (a learner's, a server's) whose name starts with ``wanted`` is up;
    returns every process of the run seen so far."""
    seen: set[psutil.Process] = set()
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline and labkit.poll() is None:
        seen.update(psutil.Process(labkit.pid).children(recursive=True))
        marked = marked_processes(prefix, prefix=True)
        seen.update(marked)
        if any(_name(process).startswith(wanted) for process in marked):
            return seen
        time.sleep(0.2)
    pytest.fail(f"no {wanted} process of the run appeared; labkit exit {labkit.poll()}")


def _name(process: psutil.Process) -> str:
    try:
        return process.name()
    except psutil.Error:
        return ""


@pytest.fixture
def scratch() -> Iterator[Path]:
    """The run's TMPDIR, where its run folder must not outlive it: directly under /tmp, as an unprivileged
    embedded PostgreSQL must reach its data folder there (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="lkt-sigterm-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize(
    ("lab", "wanted"),
    [("tcp-kv", "python"), ("query-tuning", "postgres")],
    ids=["process-lab", "services-lab"],
)
def test_sigterm_tears_down_as_ctrl_c_then_exits_143(scratch: Path, lab: str, wanted: str) -> None:
    prefix = f"{RUN_PREFIX}term{lab[:3]}"
    env = {**os.environ, "LABKIT_RUN_ID_PREFIX": prefix, "TMPDIR": str(scratch), "COLUMNS": "120"}
    command = [sys.executable, "-m", "labkit", "grade", lab, "--impl", str(KIT / "solutions" / lab),
               "--services", "embedded"]  # fmt: skip
    labkit = subprocess.Popen(command, cwd=KIT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = _started_grading(labkit, prefix, wanted)
        assert any(path.name.startswith(f"labkit-{lab}-") for path in scratch.iterdir())
        labkit.send_signal(signal.SIGTERM)
        _, stderr = labkit.communicate(timeout=DEADLINE_S)
    finally:
        if labkit.poll() is None:
            labkit.kill()
            labkit.wait()
    assert labkit.returncode == 143, stderr
    assert "terminated (SIGTERM)" in stderr and "Traceback" not in stderr
    alive = [process for process in seen if process.is_running() and process.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"outlived the run: {[p.pid for p in alive]}"
    assert marked_processes(prefix, prefix=True) == []
    assert sorted(path.name for path in scratch.iterdir()) == [], "no run folder is left behind"
