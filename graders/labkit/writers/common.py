"""What several writers say the same way: a check's failure text and the rows of a run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from labkit.results import CheckResult, LabResult, RunResult, StageResult, Status


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


def failure_text(check: CheckResult, *, with_transcript: bool = False) -> str:
    """Message, Expected, Got, stderr tail and Hint as plain text; a hidden check shows its verdict only."""
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
    if check.stderr_tail:
        parts.append(f"stderr (tail):\n{check.stderr_tail}")
    if check.hint:
        parts.append(f"Hint: {check.hint}")
    if with_transcript and check.transcript:
        parts.append("Transcript:\n" + "\n".join(check.transcript))
    return "\n".join(parts)
