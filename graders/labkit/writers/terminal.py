"""The learner-facing report: readable at a glance, precise where something failed."""

from __future__ import annotations

from rich.console import Console
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
WORD_WIDTH = max(len(status.label) for status in Status)  # every mark comes with its word: colour is never alone


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
    if verbose and lab.services_details:
        console.print(Text(f"services in detail: {lab.services_details}", style="dim"))
    if lab.error:
        console.print(Text(f"harness error (not your fault): {lab.error}", style="magenta"))
    for stage in lab.stages:
        _render_stage(stage, run, console, verbose)
    _render_summary(lab, run, console)


def _render_stage(stage: StageResult, run: RunResult, console: Console, verbose: bool) -> None:
    mark, style = MARKS[stage.status]
    quiet = stage.status in QUIET
    line = Text.assemble(
        (f" {mark} {stage.status.label:<{WORD_WIDTH}} ", style),
        (f"{stage.index} {stage.slug:<20} ", "dim" if quiet else "bold"),
        (f"{stage.title:<44} ", "dim" if quiet else ""),  # a longer title still leaves a space before the points
        (f"{stage.points:g}/{stage.max_points}" if stage.not_run is None else "", style),
    )
    line.rstrip()
    console.print(line)
    if stage.not_run is not None:
        console.print(_indented(Text(stage.not_run, style=style), 5))
    if quiet:
        return
    for check in stage.checks:
        if verbose or check.status is not Status.PASSED or check.artifacts:
            _render_check(check, run, console, verbose)


def _render_check(check: CheckResult, run: RunResult, console: Console, verbose: bool) -> None:
    mark, style = MARKS[check.status]
    console.print(_indented(Text.assemble((f"{mark} {check.status.label}: ", style), check.name), 5))
    if check.status is Status.SKIPPED:
        return
    details: list[Text] = []
    if check.status is not Status.PASSED:
        details.append(Text(check.message, style=style))
        if check.expected is not None:
            details.append(Text.assemble(("Expected: ", "bold"), check.expected))
        if check.got is not None:
            details.append(Text.assemble(("Got:      ", "bold"), check.got))
        if check.hint:  # before the stderr, which a hint may point to as "below"
            details.append(Text.assemble(("Hint: ", "bold green"), check.hint))
        if check.stderr_tail:
            details.append(Text("Your program's stderr during this check (last lines):", style="bold"))
            details.append(Text(_indent(check.stderr_tail), style="yellow"))
    if verbose and check.transcript:
        details.append(Text("Transcript:", style="bold"))
        details.append(Text(_indent("\n".join(check.transcript)), style="dim"))
    for artifact in check.artifacts:
        details.append(Text(artifact_text(artifact, artifact_location(run, artifact)), style="cyan"))
    for detail in details:
        console.print(_indented(detail, 7))


def _render_summary(lab: LabResult, run: RunResult, console: Console) -> None:
    score = Text.assemble(("Score ", "bold"), (f"{lab.points:g}/{lab.max_points}", "bold"))
    failed = lab.first_failed_stage
    if lab.passed:
        score.append("  every stage that ran passed" if lab.not_run_points else "  all stages passed", "bold green")
    elif failed is not None:
        score.append(f"  stage {failed.index} '{failed.slug}' did not pass", style="bold red")
    console.print(score)
    if (graded := sum(stage.max_points for stage in lab.stages)) < lab.lab_max_points:
        console.print(
            Text(
                f"Progress {lab.points:g}/{lab.lab_max_points} of the whole lab"
                f" (stages 1-{len(lab.stages)} graded, worth {graded} points)",
                style="bold",
            )
        )
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


def _indented(text: Text, width: int) -> Text:
    """Every line of ``text`` after ``width`` spaces; unlike a rich Padding, it never crops a line that an
    unwrapped console (a CI log) prints in full."""
    return Text("\n").join(Text(" " * width) + line for line in text.split("\n"))
