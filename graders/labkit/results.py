"""The results model: Run > Lab > Stage > Check, versioned and serialisable.

Every writer (terminal, json, junit, ...) is an adapter over this model; the JSON form is described by
``schema/results.schema.json`` and carries ``schema_version`` so consumers can refuse what they do not know.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "1.2"  # 1.1: artifacts; stages not run for a missing requirement. 1.2: durations, lab_max_points
SCHEMA_PATH = Path(__file__).parent / "schema" / "results.schema.json"


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"
    NOT_RUN = "not_run"  # the machine lacks what the stage requires: neither earned nor lost, left out of the maximum

    @property
    def label(self) -> str:
        """The status in words, for people: "not run"."""
        return self.value.replace("_", " ")


@dataclass
class Artifact:
    """A file a check attached for the learner (an HTML timeline, a packet log).

    ``path`` is relative to the run's ``artifacts_root``: ``<lab>/<check folder>/<name>``, so a folder of results
    and artifacts can be moved or archived as a whole. ``bytes`` is what was kept; ``note`` says why that is less
    than the check attached (the size caps), or why the file could not be kept."""

    name: str
    path: str
    description: str = ""
    bytes: int = 0
    note: str | None = None


@dataclass
class CheckResult:
    id: str
    name: str
    status: Status
    max_points: float
    points: float = 0.0
    duration_s: float = 0.0
    message: str = ""
    expected: str | None = None
    got: str | None = None
    hint: str | None = None
    stderr_tail: str | None = None
    transcript: list[str] = field(default_factory=list)
    visibility: str = "visible"  # "hidden": an instructor's check; learners see its name and verdict only
    artifacts: list[Artifact] = field(default_factory=list)


@dataclass
class StageResult:
    slug: str
    title: str
    index: int
    max_points: int
    checks: list[CheckResult] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    not_run: str | None = None  # why the stage was not run here ("needs a Docker engine: ..."); None when it ran

    @property
    def points(self) -> float:
        return round(sum(check.points for check in self.checks), 2)

    @property
    def duration_s(self) -> float:
        return round(sum(check.duration_s for check in self.checks), 3)

    @property
    def status(self) -> Status:
        if self.not_run is not None:
            return Status.NOT_RUN
        statuses = {check.status for check in self.checks}
        for worst in (Status.ERROR, Status.TIMEOUT, Status.FAILED):
            if worst in statuses:
                return worst
        if not statuses or statuses == {Status.SKIPPED}:
            return Status.SKIPPED
        return Status.PASSED


@dataclass
class LabResult:
    id: str
    title: str
    impl: str
    stages: list[StageResult] = field(default_factory=list)
    error: str | None = None
    services: str | None = None  # the provider that served this lab, and why; None when it used none
    services_details: str | None = None  # the provider probes' full answers (shown with -v)
    lab_max_points: int = 0  # the whole lab's points, also when --stage graded fewer stages
    duration_s: float = 0.0  # wall-clock time of grading this lab

    @property
    def max_points(self) -> int:
        """The points at stake here: a stage that was not run (a missing requirement) counts in neither score."""
        return sum(stage.max_points for stage in self.stages if stage.not_run is None)

    @property
    def not_run_points(self) -> int:
        return sum(stage.max_points for stage in self.stages if stage.not_run is not None)

    @property
    def points(self) -> float:
        return round(sum(stage.points for stage in self.stages), 2)

    @property
    def passed(self) -> bool:
        """Every stage that ran passed."""
        return self.error is None and all(stage.status in (Status.PASSED, Status.NOT_RUN) for stage in self.stages)

    @property
    def first_failed_stage(self) -> StageResult | None:
        for stage in self.stages:
            if stage.status in (Status.FAILED, Status.TIMEOUT, Status.ERROR):
                return stage
        return None

    @property
    def harness_failed(self) -> bool:
        """True when the run could not judge the learner: a harness error, not a learner failure."""
        return self.error is not None or any(
            check.status is Status.ERROR for stage in self.stages for check in stage.checks
        )


@dataclass
class RunResult:
    labkit_version: str
    started_at: str
    seed: int
    services: str
    sandbox: str
    python: str
    platform: str
    duration_s: float = 0.0
    labs: list[LabResult] = field(default_factory=list)
    schema_version: str = SCHEMA_VERSION
    artifacts_root: str | None = None  # the folder artifacts were kept in (absolute); None when none was kept

    @property
    def exit_code(self) -> int:
        if any(lab.harness_failed for lab in self.labs):
            return 2
        return 0 if all(lab.passed for lab in self.labs) else 1

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for lab, lab_data in zip(self.labs, data["labs"], strict=True):
            lab_data.update(
                points=lab.points, max_points=lab.max_points, not_run_points=lab.not_run_points, passed=lab.passed
            )
            for stage, stage_data in zip(lab.stages, lab_data["stages"], strict=True):
                stage_data.update(points=stage.points, status=stage.status.value, duration_s=stage.duration_s)
        data["exit_code"] = self.exit_code
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)


def lab_from_dict(data: dict[str, Any]) -> LabResult:
    stages = []
    for stage in data["stages"]:
        checks = [
            CheckResult(
                **{
                    **check,
                    "status": Status(check["status"]),
                    "artifacts": [Artifact(**artifact) for artifact in check.get("artifacts", [])],
                }
            )
            for check in stage["checks"]
        ]
        stages.append(
            StageResult(
                slug=stage["slug"],
                title=stage["title"],
                index=stage["index"],
                max_points=stage["max_points"],
                checks=checks,
                hints=list(stage.get("hints", [])),
                not_run=stage.get("not_run"),
            )
        )
    return LabResult(
        id=data["id"],
        title=data["title"],
        impl=data["impl"],
        stages=stages,
        error=data.get("error"),
        services=data.get("services"),
        services_details=data.get("services_details"),
        lab_max_points=data.get("lab_max_points", 0),
        duration_s=data.get("duration_s", 0.0),
    )


def split_points(total: int, parts: int) -> list[float]:
    """Splits a stage's points over its checks so they add up exactly (to two decimals)."""
    if parts == 0:
        return []
    cents = total * 100
    base, remainder = divmod(cents, parts)
    return [(base + (1 if index < remainder else 0)) / 100 for index in range(parts)]
