"""GitHub Actions: a Markdown job summary, an error annotation per failed check, and the points line.

GitHub Classroom reads a notice titled "Autograding complete" whose text is ``Points X/Y``; its reporter also takes
a base64 JSON ``result`` step output, which ``result_output`` builds for workflows that use it. Stages that were not
run (a requirement the machine lacks) are in neither X nor Y, and get a notice of their own saying so; the
``result`` output leaves their checks out, as its reporter counts every test that did not pass as failed.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from labkit.results import RunResult, StageResult, Status
from labkit.writers.common import failure_text, not_run_lines, rows

MARKS = {
    Status.PASSED: "✅",
    Status.FAILED: "❌",
    Status.TIMEOUT: "⏱️",
    Status.ERROR: "⚠️",
    Status.SKIPPED: "⏭️",
    Status.NOT_RUN: "⏸️",
}


CLASSROOM_STATUS = {Status.PASSED: "pass", Status.ERROR: "error"}


@dataclass(frozen=True)
class GithubReport:
    commands: str  # workflow commands for the log: annotations and the points notice
    summary: str  # Markdown for $GITHUB_STEP_SUMMARY
    result: str  # base64 JSON for the `result` step output


def escape_data(text: str) -> str:
    """Workflow command data: %, CR and LF must be percent-encoded or the runner cuts the message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(run: RunResult) -> GithubReport:
    points = round(sum(lab.points for lab in run.labs), 2)
    max_points = sum(lab.max_points for lab in run.labs)
    lines = []
    for row in rows(run):
        if row.check.status in (Status.FAILED, Status.TIMEOUT, Status.ERROR):
            title = escape_property(row.title)
            lines.append(f"::error title={title}::{escape_data(failure_text(row.check))}")
    for lab in run.labs:
        title = escape_property(f"{lab.id}: not run")
        lines += [f"::notice title={title}::{escape_data(line)}" for line in not_run_lines(lab)]
    lines.append(f"::notice title=Autograding complete::Points {points:g}/{max_points}")
    return GithubReport(
        commands="\n".join(lines) + "\n", summary=_summary(run, points, max_points), result=result_output(run)
    )


def _summary(run: RunResult, points: float, max_points: int) -> str:
    out = [f"## labkit: {points:g}/{max_points} points", ""]
    for lab in run.labs:
        out += [f"### {lab.id} — {lab.title}: {lab.points:g}/{lab.max_points}", ""]
        if lab.error:
            out += [f"> ⚠️ harness error (not the submission's fault): {lab.error}", ""]
        out += [f"> {MARKS[Status.NOT_RUN]} {line}" for line in not_run_lines(lab)]
        out += ["| | stage | points |", "|---|---|---|"]
        out += [f"| {MARKS[s.status]} | {s.index}. {s.slug} | {_points(s)} |" for s in lab.stages]
        out.append("")
        failing = lab.first_failed_stage
        if failing is not None:
            for check in failing.checks:
                if check.status in (Status.FAILED, Status.TIMEOUT, Status.ERROR):
                    detail = failure_text(check).replace("```", "'''")
                    out += [f"<details><summary>{MARKS[check.status]} {check.name}</summary>", "", "```"]
                    out += [detail, "```", "</details>", ""]
    out.append(f"Seed {run.seed}: `labkit grade ... --seed {run.seed}` replays this run.")
    return "\n".join(out) + "\n"


def _points(stage: StageResult) -> str:
    return f"{stage.points:g}/{stage.max_points}" if stage.not_run is None else f"not run ({stage.max_points})"


def result_output(run: RunResult) -> str:
    tests = [
        {
            "name": row.title,
            "status": "pass"
            if row.check.status is Status.PASSED
            else ("error" if row.check.status is Status.ERROR else "fail"),
            "score": row.check.points,
            "message": failure_text(row.check),
        }
        for row in rows(run)
        if row.check.status is not Status.NOT_RUN
    ]
    passed = all(lab.passed for lab in run.labs)
    data = {
        "version": 1,
        "status": "pass" if passed else "fail",
        "max_score": sum(lab.max_points for lab in run.labs),
        "tests": tests,
    }
    return base64.b64encode(json.dumps(data).encode()).decode("ascii")
