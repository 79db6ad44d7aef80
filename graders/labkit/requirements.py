"""What a stage needs from the machine (``requires = ["docker", "command:gcc", "cores:2", "tool:checkov"]`` in
lab.toml), and whether it is here.

A stage whose requirement is missing is not run: it is reported as "not run" with the reason, and its points count
neither as earned nor as lost. That is the machine's state, not the learner's work and not a harness failure.
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from labkit import fieldtools
from labkit.errors import HarnessError, LabConfigError
from labkit.settings import settings

COMMAND_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
CORES = re.compile(r"^[1-9][0-9]{0,3}$")
KNOWN = (
    'known: "docker" (a reachable Docker engine), "command:<name>" (an executable on PATH), '
    '"cores:<n>" (at least n CPU cores for the learner\'s program), '
    f'"tool:<name>" (a field tool installed by `labkit tools install`: {", ".join(sorted(fieldtools.TOOLS))})'
)
DOCKER_PING_TIMEOUT_S = 10


@dataclass(frozen=True)
class Requirement:
    kind: str  # "docker", "command", "cores" or "tool"
    name: str = ""  # the executable, for kind "command"; the number of cores, for "cores"; the tool, for "tool"

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind

    @property
    def needs(self) -> str:
        if self.kind == "cores":
            return f"needs {self.name} CPU cores"
        if self.kind == "tool":
            return f"needs {self.name} {fieldtools.known(self.name).version}"
        return f"needs the command `{self.name}`" if self.kind == "command" else "needs a Docker engine"


@dataclass(frozen=True)
class Presence:
    met: bool
    detail: str  # where it was found, or why it is missing


def parse_requirement(text: object, where: str) -> Requirement:
    """One entry of a stage's ``requires``; anything else is a lab.toml error naming ``where`` (the stage)."""
    if text == "docker":
        return Requirement("docker")
    if isinstance(text, str) and text.startswith("command:"):
        name = text.removeprefix("command:")
        if COMMAND_NAME.match(name):
            return Requirement("command", name)
        raise LabConfigError(f'{where}: requires {text!r} must name an executable, e.g. "command:gcc"')
    if isinstance(text, str) and text.startswith("cores:"):
        count = text.removeprefix("cores:")
        if CORES.match(count):
            return Requirement("cores", count)
        raise LabConfigError(f'{where}: requires {text!r} must give a number of cores, e.g. "cores:2"')
    if isinstance(text, str) and text.startswith("tool:"):
        name = text.removeprefix("tool:")
        if name in fieldtools.TOOLS:
            return Requirement("tool", name)
        raise LabConfigError(f"{where}: requires {text!r} names no field tool labkit pins; {KNOWN}")
    raise LabConfigError(f"{where}: unknown requirement {text!r} in requires; {KNOWN}")


@functools.cache
def presence(requirement: Requirement) -> Presence:
    """Whether this machine has ``requirement``; asked once per process (a Docker engine is pinged once)."""
    return CHECKS[requirement.kind](requirement)


def missing(requirements: Iterable[Requirement]) -> str | None:
    """Why a stage with these requirements cannot run here ("needs a Docker engine: <why>"), or None."""
    reasons = [f"{r.needs}: {found.detail}" for r in requirements if not (found := presence(r)).met]
    return "; ".join(reasons) or None


def _command(requirement: Requirement) -> Presence:
    path = shutil.which(requirement.name)
    return Presence(True, f"at {path}") if path else Presence(False, "not found on PATH")


def _docker(requirement: Requirement) -> Presence:
    from labkit.containers import engine  # docker-py loads only for labs that need an engine

    try:
        client = engine(timeout=DOCKER_PING_TIMEOUT_S)
    except HarnessError as error:
        return Presence(False, error.message)
    try:
        return Presence(True, f"answers at {client.api.base_url}")
    finally:
        client.close()


def _cores(requirement: Requirement) -> Presence:
    """The cores the learner's program may use: this process's CPU affinity, and under ``--sandbox docker`` no
    more than the container's CPU quota (a speed-up needs the program's cores, not the grader's)."""
    cores = len(os.sched_getaffinity(0))
    where = "this machine's processes may use"
    if settings().sandbox_pod is not None:
        try:
            quota = math.floor(float(settings().sandbox_cpus))
        except ValueError:
            quota = 1
        if quota <= cores:
            cores, where = quota, "the sandbox gives each program (LABKIT_SANDBOX_CPUS)"
    wanted = int(requirement.name)
    if cores >= wanted:
        return Presence(True, f"{cores} cores {where}")
    return Presence(False, f"only {cores} {'core' if cores == 1 else 'cores'} {where}")


def _tool(requirement: Requirement) -> Presence:
    tool = fieldtools.known(requirement.name)
    python = fieldtools.python_of(tool)
    return Presence(True, f"in {python.parent.parent}") if python else Presence(False, fieldtools.why_missing(tool))


CHECKS: dict[str, Callable[[Requirement], Presence]] = {
    "docker": _docker,
    "command": _command,
    "cores": _cores,
    "tool": _tool,
}
