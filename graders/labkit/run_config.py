"""What one lab's grading needs to know, in one frozen object that crosses into the grader's pytest process.

``RunChoices`` is what the person grading chose (seed, services, sandbox, ...): the same for every lab of a
``labkit grade`` run and every submission of a cohort. ``RunConfig`` adds where and what this lab's grading is. The
engine writes it as JSON into the run folder and hands the grader its path in one option, ``--labkit-config``;
reading it back checks every field, so a malformed file fails at once and names the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from labkit.errors import HarnessError


class ServiceChoice(StrEnum):
    """Where PostgreSQL and Redis come from (see labkit.services)."""

    AUTO = "auto"
    EMBEDDED = "embedded"
    DOCKER = "docker"
    EXTERNAL = "external"


class SandboxChoice(StrEnum):
    """Where the learner's program runs: a host process, or a container (see labkit.sandbox) of the small Python
    image or of the polyglot one (C, C++, Go, Rust, Node.js, Java as well)."""

    PROCESS = "process"
    DOCKER = "docker"
    POLYGLOT = "polyglot"

    @property
    def in_container(self) -> bool:
        return self is not SandboxChoice.PROCESS


class RunConfigError(HarnessError):
    """A run configuration that labkit cannot use: a field missing, of the wrong type, or not one of its choices."""


Choice = TypeVar("Choice", ServiceChoice, SandboxChoice)


def parse_choice(kind: type[Choice], value: object, name: str) -> Choice:
    """``value`` as a member of ``kind``, or a RunConfigError that lists the choices."""
    if isinstance(value, str) and value in kind.__members__.values():
        return kind(value)
    raise RunConfigError(f"{name} must be one of {', '.join(kind)}, not {value!r}")


@dataclass(frozen=True)
class RunChoices:
    seed: int
    services: ServiceChoice = ServiceChoice.AUTO
    sandbox: SandboxChoice = SandboxChoice.PROCESS
    until: int = 0  # the last stage to grade (1-based); 0 grades them all
    extra_graders: Path | None = None  # a folder with <lab>/hidden_<stage>.py: an instructor's private checks
    hidden_details: bool = False  # keep the details of hidden checks in the results (instructors only)

    def __post_init__(self) -> None:
        # A plain string (from code mypy does not see) becomes its member, or fails here, listing the choices.
        object.__setattr__(self, "services", parse_choice(ServiceChoice, self.services, "services"))
        object.__setattr__(self, "sandbox", parse_choice(SandboxChoice, self.sandbox, "sandbox"))

    @property
    def may_use_docker(self) -> bool:
        """Whether grading may leave containers behind for the run's sweep."""
        return self.sandbox.in_container or self.services in (ServiceChoice.AUTO, ServiceChoice.DOCKER)

    def grade_arguments(self) -> list[str]:
        """These choices as `labkit grade` options: seed and services always, the others when they are not the
        default."""
        arguments = ["--seed", str(self.seed), "--services", self.services]
        if self.sandbox is not SandboxChoice.PROCESS:
            arguments += ["--sandbox", self.sandbox]
        if self.until:
            arguments += ["--stage", str(self.until)]
        if self.extra_graders is not None:
            arguments += ["--extra-graders", str(self.extra_graders)]
        if self.hidden_details:
            arguments.append("--hidden-details")
        return arguments

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "services": str(self.services),
            "sandbox": str(self.sandbox),
            "until": self.until,
            "extra_graders": str(self.extra_graders) if self.extra_graders is not None else None,
            "hidden_details": self.hidden_details,
        }

    @classmethod
    def from_dict(cls, data: object) -> RunChoices:
        fields = _Fields(data, prefix="choices.")
        return cls(
            seed=fields.integer("seed"),
            services=fields.choice(ServiceChoice, "services"),
            sandbox=fields.choice(SandboxChoice, "sandbox"),
            until=fields.integer("until", minimum=0),
            extra_graders=fields.optional_path("extra_graders"),
            hidden_details=fields.flag("hidden_details"),
        )


@dataclass(frozen=True)
class RunConfig:
    lab_id: str
    impl: Path  # the learner's implementation folder: only ever a path handed to the learner's process
    kit_root: Path
    run_dir: Path  # this lab's scratch folder: logs, services, the results file
    run_id: str  # the marker carried by every process and container of this lab's grading
    choices: RunChoices

    @property
    def results_path(self) -> Path:
        return self.run_dir / f"{self.lab_id}.results.json"

    @property
    def path(self) -> Path:
        """Where ``write`` puts this configuration."""
        return self.run_dir / f"{self.lab_id}.config.json"

    def to_json(self) -> str:
        return json.dumps(
            {
                "lab_id": self.lab_id,
                "impl": str(self.impl),
                "kit_root": str(self.kit_root),
                "run_dir": str(self.run_dir),
                "run_id": self.run_id,
                "choices": self.choices.to_dict(),
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise RunConfigError(f"run configuration: not JSON ({error})") from error
        fields = _Fields(data)
        return cls(
            lab_id=fields.text("lab_id"),
            impl=fields.path("impl"),
            kit_root=fields.path("kit_root"),
            run_dir=fields.path("run_dir"),
            run_id=fields.text("run_id"),
            choices=RunChoices.from_dict(fields.get("choices")),
        )

    def write(self) -> Path:
        """Writes this configuration to ``path``, readable by the grader's user only; returns the path."""
        self.path.touch(mode=0o600)
        self.path.write_text(self.to_json() + "\n", encoding="utf-8")
        return self.path

    @classmethod
    def read(cls, path: Path) -> RunConfig:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise RunConfigError(f"run configuration: cannot read {path} ({error.strerror})") from error
        return cls.from_json(text)


class _Fields:
    """Typed access to a JSON object's fields; each mistake is a RunConfigError naming the field."""

    def __init__(self, data: object, *, prefix: str = "") -> None:
        if not isinstance(data, dict):
            what = prefix.rstrip(".") or "the whole"
            raise RunConfigError(f"run configuration: {what} must be a JSON object, not {type(data).__name__}")
        self._data: dict[str, Any] = data
        self._prefix = prefix

    def _fail(self, name: str, problem: str) -> NoReturn:
        raise RunConfigError(f"run configuration: {self._prefix}{name} {problem}")

    def get(self, name: str) -> object:
        if name not in self._data:
            self._fail(name, "is missing")
        return self._data[name]

    def text(self, name: str) -> str:
        value = self.get(name)
        if not isinstance(value, str) or not value:
            self._fail(name, f"must be a non-empty string, not {value!r}")
        return value

    def path(self, name: str) -> Path:
        return Path(self.text(name))

    def optional_path(self, name: str) -> Path | None:
        return None if self.get(name) is None else self.path(name)

    def integer(self, name: str, *, minimum: int | None = None) -> int:
        value = self.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            self._fail(name, f"must be an integer, not {value!r}")
        if minimum is not None and value < minimum:
            self._fail(name, f"must be at least {minimum}, not {value}")
        return value

    def flag(self, name: str) -> bool:
        value = self.get(name)
        if not isinstance(value, bool):
            self._fail(name, f"must be true or false, not {value!r}")
        return value

    def choice(self, kind: type[Choice], name: str) -> Choice:
        return parse_choice(kind, self.get(name), f"run configuration: {self._prefix}{name}")
