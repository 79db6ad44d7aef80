"""Helpers for the kit's own tests: run the real `labkit` CLI and read what it reports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KIT = Path(__file__).resolve().parents[1]
SCENARIOS = KIT / "tests" / "scenarios"
SCHEMA = KIT / "graders" / "labkit" / "schema" / "results.schema.json"
RECORD = os.environ.get("LABKIT_RECORD") == "1"
# Every run this test session starts carries this prefix, so the leftover guard ignores other runs on the machine.
RUN_PREFIX = f"lkt{os.getpid()}x"


def run_labkit(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labkit", *args],
        cwd=KIT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "120", "LABKIT_RUN_ID_PREFIX": RUN_PREFIX, **(env or {})},
        check=False,
    )


def grade_json(lab: str, impl: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    # Recorded verdicts may quote the server (a plan's buffer counts, a SQLSTATE that differs between PostgreSQL
    # versions), so the kit's own runs pin the embedded provider unless a test chooses another; the docker path
    # has its own tests.
    services = () if "--services" in extra or "--sandbox" in extra else ("--services", "embedded")
    done = run_labkit(
        "grade", lab, "--impl", str(impl), "--format", "json", "--seed", "1", *services, *extra, env=env
    )  # fmt: skip
    assert done.stdout, f"no JSON on stdout; exit {done.returncode}; stderr:\n{done.stderr}"
    return done.returncode, json.loads(done.stdout)


@dataclass(frozen=True)
class Scenario:
    lab: str
    name: str
    folder: Path
    stage: str
    description: str
    timing_dependent: str | None = None  # why this bug's first symptom depends on timing; then only verdicts count

    @property
    def id(self) -> str:
        return f"{self.lab}/{self.name}"

    @property
    def fixture(self) -> Path:
        return self.folder / "expected.txt"


def scenarios() -> list[Scenario]:
    found = []
    for toml_path in sorted(SCENARIOS.glob("*/*/scenario.toml")):
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        folder = toml_path.parent
        why = data.get("timing_dependent")
        found.append(Scenario(folder.parent.name, folder.name, folder, data["stage"], data["description"], why))
    return found


VOLATILE = [
    (re.compile(r"\b(port|PORT=|pid|ports?) \d+"), r"\1 <n>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"PORT=\d+"), "PORT=<port>"),
    (re.compile(r"/tmp/[\w./-]+"), "<tmp>"),
    (re.compile(re.escape(str(KIT))), "<kit>"),
    # A server that crashes closes its sockets with FIN or RST depending on what was unread: a race, not a verdict.
    (re.compile(r"the connection was reset by your program|your program closed the connection"), "<closed or reset>"),
]


def normalise(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def verdict_summary(result: dict[str, Any]) -> str:
    """The part of a run that must stay stable: stage verdicts, the failing stage's check statuses, and what a
    learner reads for its first failure."""
    lab = result["labs"][0]
    lines = [f"score {lab['points']:g}/{lab['max_points']}"]
    for stage in lab["stages"]:
        lines.append(f"stage {stage['index']} {stage['slug']}: {stage['status']}")
        if stage["status"] in ("passed", "skipped"):
            continue
        explained = False
        for check in stage["checks"]:
            lines.append(f"  {check['status']:<7} {check['id']}")
            # The first failure is what the learner acts on. Later checks of a broken program may fail in ways that
            # depend on timing (how TCP coalesced writes, when a crash landed), so only their status is recorded.
            if check["status"] != "passed" and not explained:
                explained = True
                lines.append("    message: " + check["message"].replace("\n", "\n             "))
                if check["hint"]:
                    lines.append(f"    hint: {check['hint']}")
    return normalise("\n".join(lines)) + "\n"


def without_messages(summary: str) -> str:
    """A verdict summary with only the score and statuses, for bugs whose first symptom depends on timing."""
    detail = ("    message: ", "    hint: ", "             ")
    return "".join(line for line in summary.splitlines(keepends=True) if not line.startswith(detail))
