"""Helpers for the kit's own tests: run the real `labkit` CLI and read what it reports."""

from __future__ import annotations

import io
import json
import os
import queue
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from labkit.engine import bytecode_cache
from labkit.scenarios import SCENARIO_SEED, SCENARIO_SERVICES, find_scenarios
from labkit.scenarios import Scenario as Scenario  # scenarios and their verdicts live in labkit.scenarios
from labkit.scenarios import verdict_summary as summarise
from labkit.scenarios import without_messages as without_messages

KIT = Path(__file__).resolve().parents[1]
SCHEMA = KIT / "graders" / "labkit" / "schema" / "results.schema.json"
RECORD = os.environ.get("LABKIT_RECORD") == "1"
# Every run this test session starts carries this prefix, so the leftover guard ignores other runs on the machine.
RUN_PREFIX = f"lkt{os.getpid()}x"
# Where the `labkit` runs of this test session record progress: never the checkout's .labkit/ (tests/conftest.py
# removes it at the end of the session).
STATE_DIR = Path(tempfile.gettempdir()) / f"{RUN_PREFIX}-state"


def environment() -> dict[str, str]:
    """A copy of this process's environment. pytest rewrites PYTEST_CURRENT_TEST around every test, while tests that
    grade from several threads copy the environment: a copy that meets a key removed under it is simply taken again."""
    for _ in range(100):
        try:
            return dict(os.environ)
        except (KeyError, RuntimeError):
            continue
    return dict(os.environ)


# Every labkit this test session starts makes its run folders here (TMPDIR), and the session removes it at its
# end: a run folder kept for its logs never outlives the suite. Readable by all, as embedded PostgreSQL runs as
# an unprivileged user below it.
SCRATCH = Path(tempfile.gettempdir()) / f"lkt-scratch-{os.getpid()}"


def session_env() -> dict[str, str]:
    """What every labkit of this test session gets: its run prefix, its scratch folder, a fixed width."""
    SCRATCH.mkdir(mode=0o755, exist_ok=True)
    return {"COLUMNS": "120", "LABKIT_RUN_ID_PREFIX": RUN_PREFIX, "TMPDIR": str(SCRATCH)}


def run_labkit(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600, cwd: Path = KIT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labkit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**labkit_env(), **(env or {})},
        check=False,
    )


def labkit_env() -> dict[str, str]:
    """The environment the kit's tests run `labkit` in: this session's own state and scratch folders, and labkit's
    modules compiled once into the grader's bytecode cache (a machine that turns bytecode off would otherwise
    compile them in every one of the suite's thousand runs of the CLI)."""
    env = {**environment(), **session_env(), "LABKIT_STATE_DIR": str(STATE_DIR)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return {**env, "PYTHONPYCACHEPREFIX": str(bytecode_cache())}


def grade_json(
    lab: str, impl: Path | None, *extra: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """Grades ``impl`` (None: the lab's starter folder) and returns the exit code and the JSON results."""
    # Recorded verdicts may quote the server (a plan's buffer counts, a SQLSTATE that differs between PostgreSQL
    # versions), so the kit's own runs pin the embedded provider unless a test chooses another; the docker path
    # has its own tests. Seed and provider are the ones scenarios are recorded with (`labkit record`).
    services = () if "--services" in extra or "--sandbox" in extra else ("--services", SCENARIO_SERVICES)
    chosen = ("--impl", str(impl)) if impl is not None else ()
    done = run_labkit(
        "grade", lab, *chosen, "--format", "json", "--seed", str(SCENARIO_SEED), *services, *extra, env=env
    )  # fmt: skip
    assert done.stdout, f"no JSON on stdout; exit {done.returncode}; stderr:\n{done.stderr}"
    return done.returncode, json.loads(done.stdout)


def scenarios() -> list[Scenario]:
    return find_scenarios(KIT)


def stages_that_cannot_run_here(lab_id: str) -> dict[str, str]:
    """The lab's stages whose ``requires`` this machine lacks (a Docker engine), each with the reason. Empty under
    LABKIT_REQUIRE_DOCKER=1: CI has set an engine up there, and a stage that does not run is then a failure."""
    from labkit.catalog import load_catalog
    from labkit.requirements import missing

    if os.environ.get("LABKIT_REQUIRE_DOCKER") == "1":
        return {}
    lab = next(lab for lab in load_catalog(KIT).labs if lab.id == lab_id)
    return {stage.slug: reason for stage in lab.stages if stage.requires and (reason := missing(stage.requires))}


def verdict_summary(result: dict[str, Any]) -> str:
    return summarise(result, KIT)


class LineReader:
    """The lines a process writes, read by a thread so that waiting for one has a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, deadline_s: float) -> list[str]:
        """Every line read until one containing ``text`` (inclusive)."""
        seen: list[str] = []
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            seen.append(line)
            if text in line:
                return seen
        pytest.fail(f"no line with {text!r}; output so far:\n" + "\n".join(self.lines))


def pristine_starter(lab_id: str, into: Path, root: Path = KIT) -> Path:
    """A lab's starter as committed (``git archive HEAD``), copied under ``into``: a learner who works in
    labs/<lab> of their clone changes nothing the kit's tests grade. Outside a git checkout, a copy of the folder."""
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", "HEAD", f"labs/{lab_id}"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        shutil.copytree(root / "labs" / lab_id, into / "labs" / lab_id)
    else:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(into, filter="data")
    return into / "labs" / lab_id
