"""Helpers for the kit's own tests: run the real `labkit` CLI and read what it reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def environment() -> dict[str, str]:
    """A copy of this process's environment. pytest rewrites PYTEST_CURRENT_TEST around every test, while tests that
    grade from several threads copy the environment: a copy that meets a key removed under it is simply taken again."""
    for _ in range(100):
        try:
            return dict(os.environ)
        except (KeyError, RuntimeError):
            continue
    return dict(os.environ)


def run_labkit(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600, cwd: Path = KIT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labkit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**environment(), "COLUMNS": "120", "LABKIT_RUN_ID_PREFIX": RUN_PREFIX, **(env or {})},
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
