"""Helpers for the kit's own tests: run the real `labkit` CLI and read what it reports."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from labkit.scenarios import SCENARIO_SEED, SCENARIO_SERVICES, find_scenarios
from labkit.scenarios import Scenario as Scenario  # scenarios and their verdicts live in labkit.scenarios
from labkit.scenarios import verdict_summary as summarise
from labkit.scenarios import without_messages as without_messages

KIT = Path(__file__).resolve().parents[1]
SCHEMA = KIT / "graders" / "labkit" / "schema" / "results.schema.json"
RECORD = os.environ.get("LABKIT_RECORD") == "1"
# Every run this test session starts carries this prefix, so the leftover guard ignores other runs on the machine.
RUN_PREFIX = f"lkt{os.getpid()}x"
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
        env={**os.environ, **session_env(), **(env or {})},
        check=False,
    )


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


def verdict_summary(result: dict[str, Any]) -> str:
    return summarise(result, KIT)


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
