"""The learner-facing report: readable at a glance, precise where something failed."""

from __future__ import annotations

from rich.console import Console, Group
from rich.padding import Padding
from rich.text import Text

from labkit.results import CheckResult, LabResult, RunResult, StageResult, Status
from labkit.writers.common import artifact_location, artifact_text, not_run_lines

MARKS = {
    Status.PASSED: ("✓", "green"),
    Status.FAILED: ("✗", "red"),
    Status.TIMEOUT: ("⏱", "red"),
    Status.ERROR: ("!", "magenta"),
    Status.SKIPPED: ("·", "dim"),
    Status.NOT_RUN: ("○", "yellow"),
}
QUIET = (Status.SKIPPED, Status.NOT_RUN)  # stages whose checks are not listed


def render_terminal(run: RunResult, console: Console, *, verbose: bool = False) -> None:
    for lab in run.labs:
        _render_lab(lab, run, console, verbose)
    if len(run.labs) > 1:
        passed = sum(1 for lab in run.labs if lab.passed)
        console.print(Text(f"{passed}/{len(run.labs)} labs passed", style="bold"))


def _render_lab(lab: LabResult, run: RunResult, console: Console, verbose: bool) -> None:
    console.print(Text.assemble(("labkit ", "bold"), (lab.id, "bold cyan"), f" — {lab.title}"))
    services = lab.services or "none"
    console.print(Text(f"implementation: {lab.impl}   seed: {run.seed}   services: {services}", style="dim"))
    if lab.error:
        console.print(Text(f"harness error (not your fault): {lab.error}", style="magenta"))
    for stage in lab.stages:
        _render_stage(stage, run, console, verbose)
    _render_summary(lab, run, console)


def _render_stage(stage: StageResult, run: RunResult, console: Console, verbose: bool) -> None:
    mark, style = MARKS[stage.status]
    quiet = stage.status in QUIET
    line = Text.assemble(
        (f" {mark} ", style),
        (f"{stage.index} {stage.slug:<20}", "dim" if quiet else "bold"),
        (f"{stage.title:<44}", "dim" if quiet else ""),
        (f"{stage.points:g}/{stage.max_points}" if stage.not_run is None else Status.NOT_RUN.label, style),
    )
    console.print(line)
    if stage.not_run is not None:
        console.print(Padding(Text(stage.not_run, style=style), (0, 0, 0, 5)))
    if quiet:
        return
    for check in stage.checks:
        if verbose or check.status is not Status.PASSED or check.artifacts:
            _render_check(check, run, console, verbose)


def _render_check(check: CheckResult, run: RunResult, console: Console, verbose: bool) -> None:
    mark, style = MARKS[check.status]
    console.print(Padding(Text.assemble((f"{mark} ", style), check.name), (0, 0, 0, 5)))
    if check.status is Status.SKIPPED:
        return
    details: list[Text] = []
    if check.status is not Status.PASSED:
        details.append(Text(check.message, style=style))
        if check.expected is not None:
            details.append(Text.assemble(("Expected: ", "bold"), check.expected))
        if check.got is not None:
            details.append(Text.assemble(("Got:      ", "bold"), check.got))
        if check.stderr_tail:
            details.append(Text("Your program's stderr (last lines):", style="bold"))
            details.append(Text(_indent(check.stderr_tail), style="yellow"))
        if check.hint:
            details.append(Text.assemble(("Hint: ", "bold green"), check.hint))
    if verbose and check.transcript:
        details.append(Text("Transcript:", style="bold"))
        details.append(Text(_indent("\n".join(check.transcript)), style="dim"))
    for artifact in check.artifacts:
        details.append(Text(artifact_text(artifact, artifact_location(run, artifact)), style="cyan"))
    if details:
        console.print(Padding(Group(*details), (0, 0, 0, 7)))


def _render_summary(lab: LabResult, run: RunResult, console: Console) -> None:
    score = Text.assemble(("Score ", "bold"), (f"{lab.points:g}/{lab.max_points}", "bold"))
    failed = lab.first_failed_stage
    if lab.passed:
        score.append("  every stage that ran passed" if lab.not_run_points else "  all stages passed", "bold green")
    elif failed is not None:
        score.append(f"  stage {failed.index} '{failed.slug}' did not pass", style="bold red")
    console.print(score)
    for line in not_run_lines(lab):
        console.print(Text(line, style="yellow"))
    if failed is not None and not lab.harness_failed:
        console.print(
            Text(
                f"Next: fix the first failure above, then `labkit grade {lab.id} --stage {failed.slug}`."
                f" Hints: `labkit hint {lab.id} {failed.slug}`. Replay exactly: --seed {run.seed}",
                style="dim",
            )
        )
    console.print()


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.rstrip("\n").splitlines())
