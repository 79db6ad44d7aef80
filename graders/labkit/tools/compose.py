"""docker-compose, run from its own pinned environment (`labkit tools install docker-compose`), on one project.

A stage that uses it declares ``requires = ["docker", "tool:docker-compose"]``. ``up`` starts the project detached
and returns what Compose printed: a file Compose rejects, a build that fails or a dependency that never becomes
healthy is the learner's to read, so it is returned, not raised. An engine that refuses a start now and then (a
5xx of its own) is tried again after ``down``; a tool that is missing, hangs or keeps meeting a refusing engine
is a HarnessError: the grading machine's problem, never the learner's zero.

    project = ComposeProject(folder / "compose.yaml", "labkit-run-1234", env={"POSTGRES_PASSWORD": "..."})
    try:
        started = project.up(timeout=240)
        ...
    finally:
        project.down()
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from labkit import fieldtools
from labkit.containers import EngineRefused, transient
from labkit.errors import HarnessError

TOOL = fieldtools.TOOLS["docker-compose"]
ATTEMPTS = 3
RETRY_PAUSE_S = 2.0
DOWN_TIMEOUT_S = 120.0
SHOWN_LINES = 25  # lines of Compose's output kept for a message
# Compose's own words when the engine, not the file, failed a start (runc's and the daemon's).
ENGINE_FAILURES = ("500 server error", "502 server error", "503 server error", "cannot start a stopped process")


@dataclass(frozen=True)
class ComposeResult:
    exit_code: int
    output: str  # the last lines of what Compose printed (stderr, then stdout), without its warnings

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@dataclass
class ComposeProject:
    """One Compose project: ``file`` (its folder is the project's), run under ``name`` with ``env`` added to
    PATH, HOME and the engine's address (nothing else of the grader's environment reaches Compose)."""

    file: Path
    name: str
    env: Mapping[str, str] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep

    def up(self, timeout: float) -> ComposeResult:
        """``build``, then ``up --detach``: starts in dependency order, waiting for the ``service_healthy``
        conditions. Compose v1 has no ``--wait``: the caller polls the health of what it started. A failed build
        returns the build's output, a failed start the start's only (without the build's steps)."""
        deadline = time.monotonic() + timeout
        built = self._compose("build", timeout=timeout)
        if not built.ok:
            return built
        for attempt in range(1, ATTEMPTS + 1):
            result = self._compose(
                "up", "--detach", "--no-build", "--no-color", timeout=max(deadline - time.monotonic(), 1.0)
            )
            if result.ok or not self._engine_failed(result):
                return result
            self.down()
            if attempt < ATTEMPTS:
                self.sleep(RETRY_PAUSE_S * attempt)
        raise HarnessError(
            f"the Docker engine refused to start {self.name}'s containers {ATTEMPTS} times; it said:\n{result.output}",
            hint="check the engine (docker info, its log) and grade again",
        )

    def down(self) -> ComposeResult:
        """Stops and removes the project's containers, networks and volumes; best effort (never raises for the
        engine: the run's sweep removes what carries its label)."""
        try:
            return self._compose("down", "--volumes", "--remove-orphans", "--timeout", "5", timeout=DOWN_TIMEOUT_S)
        except HarnessError as error:
            return ComposeResult(-1, error.message)

    def _compose(self, *args: str, timeout: float) -> ComposeResult:
        run = fieldtools.run(
            TOOL,
            ["--project-name", self.name, "--file", self.file.name, *args],
            cwd=self.file.parent,
            timeout=timeout,
            env={"COMPOSE_INTERACTIVE_NO_CLI": "1", "PYTHONWARNINGS": "ignore", **self.env},
        )
        # Names carry the project's (the run's) name as a prefix: shown without it, a message is the same each run.
        text = (run.stderr + run.stdout).replace(f"{self.name}_", "")
        lines = [line for line in text.splitlines() if not _noise(line)]
        return ComposeResult(run.exit_code, "\n".join(lines[-SHOWN_LINES:]))

    @staticmethod
    def _engine_failed(result: ComposeResult) -> bool:
        text = result.output.lower()
        return any(mark in text for mark in ENGINE_FAILURES) and transient(EngineRefused(result.output))


PROGRESS = ("creating ", "starting ", "recreating ", "stopping ", "removing ", "pulling ", "building ")


def _noise(line: str) -> bool:
    """Compose's progress lines (printed in whatever order its threads finish) and the engine's notice about its
    legacy builder say nothing about the project; its errors and warnings stay."""
    lowered = line.strip().lower()
    return not lowered or lowered.startswith(PROGRESS) or "legacy builder" in lowered or "buildx" in lowered
