"""What several writers say the same way: a check's failure text, its artifacts and the rows of a run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from labkit.results import Artifact, CheckResult, LabResult, RunResult, StageResult, Status


@dataclass(frozen=True)
class Row:
    lab: LabResult
    stage: StageResult
    check: CheckResult

    @property
    def title(self) -> str:
        return f"{self.lab.id} · {self.stage.index}. {self.stage.slug} · {self.check.name}"

    @property
    def hidden(self) -> bool:
        return self.check.visibility == "hidden"


def rows(run: RunResult) -> Iterator[Row]:
    for lab in run.labs:
        for stage in lab.stages:
            for check in stage.checks:
                yield Row(lab, stage, check)


def not_run_lines(lab: LabResult) -> list[str]:
    """ "N points not run: <reason>", once per reason, so a full score of what ran is never read as a full score."""
    points: dict[str, int] = {}
    for stage in lab.stages:
        if stage.not_run is not None:
            points[stage.not_run] = points.get(stage.not_run, 0) + stage.max_points
    return [f"{count} points not run: {reason}" for reason, count in points.items()]


def failure_text(check: CheckResult, *, with_transcript: bool = False) -> str:
    """Message, Expected, Got, stderr tail and Hint as plain text; a hidden check shows its verdict only."""
    if check.status is Status.NOT_RUN:
        return check.message  # the machine's reason, never a secret
    if check.visibility == "hidden":
        return f"{check.status.value} (details of hidden checks are not shown)"
    if check.status is Status.PASSED:
        return ""
    if check.status is Status.SKIPPED:
        return check.message or "not run: an earlier stage failed"
    parts = [check.message]
    if check.expected is not None:
        parts.append(f"Expected: {check.expected}")
    if check.got is not None:
        parts.append(f"Got: {check.got}")
    if check.hint:  # before the stderr, which a hint may point to as "below"
        parts.append(f"Hint: {check.hint}")
    if check.stderr_tail:
        parts.append(f"stderr during this check (tail):\n{check.stderr_tail}")
    if with_transcript and check.transcript:
        parts.append("Transcript:\n" + "\n".join(check.transcript))
    return "\n".join(parts)


def artifact_file(run: RunResult, artifact: Artifact) -> Path | None:
    """The kept file, or None when the run kept none (``labkit record``, a grading without an artifacts root)."""
    return Path(run.artifacts_root) / artifact.path if run.artifacts_root else None


def artifact_location(run: RunResult, artifact: Artifact, base: Path | None = None) -> str:
    """Where a learner finds an artifact: relative to ``base`` (default: the current folder) when it is below it."""
    full = artifact_file(run, artifact)
    if full is None:
        return artifact.path
    base = base or Path.cwd()
    return str(full.relative_to(base)) if full.is_relative_to(base) else str(full)


def artifact_text(artifact: Artifact, location: str) -> str:
    """``artifact: <where> — <description> (<note>)``, the line every text report shows under its check."""
    text = f"artifact: {location}"
    if artifact.description:
        text += f" — {artifact.description}"
    return text + (f" ({artifact.note})" if artifact.note else "")
