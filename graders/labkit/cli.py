"""The `labkit` command: list the catalog, grade, show hints, and check the machine."""

from __future__ import annotations

import io
import json
import os
import secrets
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from labkit import __version__
from labkit.artifacts import DEFAULT_ROOT, foreign_folder
from labkit.catalog import Catalog, Lab, load_catalog
from labkit.consoles import is_plain, make_console
from labkit.engine import Terminated, stop_on_sigterm
from labkit.errors import HarnessError
from labkit.grading import GradeOptions, grade_labs
from labkit.results import RunResult
from labkit.run_config import RunChoices, SandboxChoice, ServiceChoice
from labkit.settings import settings
from labkit.writers import FORMATS, render, render_github, render_terminal

app = typer.Typer(
    help="labkit: hands-on backend engineering labs, graded against real servers.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish and PowerShell
    pretty_exceptions_enable=False,
)
console = make_console()
errors = make_console(stderr=True)  # never wrapped: a message with a long path stays one line to copy


def _show_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"labkit {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    plain: Annotated[bool, typer.Option("--plain", help="no colour, no escape codes (as NO_COLOR=1)")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="show labkit's version")
    ] = False,
) -> None:
    """labkit: hands-on backend engineering labs, graded against real servers."""
    if plain:
        _use_plain_output()


def _use_plain_output() -> None:
    global console, errors
    console, errors = make_console(plain=True), make_console(stderr=True, plain=True)


def _lab_ids(incomplete: str) -> list[str]:
    """Shell completion of a LAB argument: the catalog's lab ids that start with what was typed."""
    try:
        return [lab.id for lab in load_catalog(skip_broken=True).labs if lab.id.startswith(incomplete)]
    except HarnessError:
        return []


def _lab_argument(help_text: str | None = None) -> Any:
    """A LAB argument of a command: an existing lab's id, completed by the shell from the catalog."""
    return typer.Argument(metavar="LAB", help=help_text, autocompletion=_lab_ids)


def _lab(catalog: Catalog, lab_id: str) -> Lab:
    """The lab named on the command line; an unknown id is a usage error that lists the known ones."""
    try:
        return catalog.get(lab_id)
    except HarnessError as error:
        _usage(str(error))


def _catalog() -> Catalog:
    try:
        return load_catalog(skip_broken=True)  # a broken lab is named where it is used; the others still work
    except HarnessError as error:
        errors.print(f"[magenta]labkit:[/] {error}", highlight=False)
        raise typer.Exit(2) from error


@app.command("list")
def list_labs(
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Show the lab catalog."""
    catalog = _catalog()
    if fmt == "json":
        unusable = [{"id": lab.id, "broken": lab.reason} for lab in catalog.broken]
        console.print_json(json.dumps([*(_lab_summary(lab) for lab in catalog.labs), *unusable]))
        return
    if fmt != "table":
        _usage(f"unknown format {fmt!r}; use table or json")
    table = Table(title="labkit labs", title_justify="left")
    for column in ("lab", "title", "track", "competencies", "stages", "points", "services"):
        table.add_column(column, overflow="fold")
    for lab in catalog.labs:
        table.add_row(
            lab.id, lab.title, lab.track, ", ".join(lab.competencies), str(len(lab.stages)),
            str(lab.max_points), ", ".join(lab.services) or "none",
        )  # fmt: skip
    for broken in catalog.broken:
        table.add_row(broken.id, "BROKEN: " + broken.reason, "", "", "", "", "")
    console.print(table)
    for broken in catalog.broken:
        errors.print(f"labkit: lab {broken.id} is broken: {broken.reason}", highlight=False, markup=False)


def _lab_summary(lab: Lab) -> dict[str, object]:
    return {
        "id": lab.id,
        "title": lab.title,
        "track": lab.track,
        "summary": lab.summary,
        "competencies": list(lab.competencies),
        "services": list(lab.services),
        "points": lab.max_points,
        "stages": [{"index": s.index, "slug": s.slug, "title": s.title, "points": s.points} for s in lab.stages],
    }


@app.command()
def grade(
    lab_id: Annotated[str | None, _lab_argument("lab id, e.g. tcp-kv")] = None,
    impl: Annotated[Path | None, typer.Option(help="implementation folder (default: labs/LAB)")] = None,
    stage: Annotated[str | None, typer.Option(help="grade up to this stage (number or slug)")] = None,
    seed: Annotated[int | None, typer.Option(help="replay a run's randomised inputs")] = None,
    services: Annotated[ServiceChoice, typer.Option(help="where PostgreSQL and Redis come from")] = ServiceChoice.AUTO,
    sandbox: Annotated[
        SandboxChoice,
        typer.Option(
            help="process; docker: your program runs in a container (Python); polyglot: one with C, C++, "
            "Go, Rust, Node.js and Java too"
        ),
    ] = SandboxChoice.PROCESS,
    fmt: Annotated[str, typer.Option("--format", help="terminal json junit gradescope github html")] = "terminal",
    out: Annotated[Path | None, typer.Option(help="write the report to this file")] = None,
    all_labs: Annotated[bool, typer.Option("--all", help="grade every lab")] = False,
    impl_root: Annotated[Path | None, typer.Option(help="with --all: a tree with one folder per lab")] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="show every check and transcripts")] = False,
    plain: Annotated[bool, typer.Option("--plain", help="no colour and no escape codes at all")] = False,
    extra_graders: Annotated[
        Path | None, typer.Option(help="instructors: a folder with LAB/hidden_<stage>.py private checks")
    ] = None,
    hidden_details: Annotated[bool, typer.Option(help="instructors: keep hidden checks' details in reports")] = False,
    artifacts: Annotated[Path, typer.Option(help="where files attached by checks are kept, one folder per lab")] = Path(
        DEFAULT_ROOT
    ),
) -> None:
    """Grade an implementation. Exit 0: all passed, 1: some check failed, 2: usage or harness error."""
    if plain:
        _use_plain_output()
    catalog = _catalog()
    if fmt not in FORMATS:
        _usage(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if sandbox.in_container and services is ServiceChoice.EXTERNAL:
        _usage(f"--sandbox {sandbox} reaches only services it starts itself; use --services docker or embedded")
    if all_labs == (lab_id is not None):
        _usage("give either a LAB or --all")
    if impl_root is not None and not all_labs:
        _usage("--impl-root goes with --all; for one lab use --impl")
    if out is not None and (problem := _unwritable(out)) is not None:
        _usage(f"--out {out}: {problem}")  # found before grading, not after minutes of it
    try:
        labs = list(catalog.labs) if all_labs else [catalog.get(lab_id or "")]
        until = labs[0].stage(stage).index if stage and not all_labs else 0
        if stage and all_labs:
            _usage("--stage needs a single LAB")
        impls = [_impl_for(lab, impl, impl_root) for lab in labs]
    except HarnessError as error:
        _usage(str(error))
    for broken in catalog.broken if all_labs else ():
        errors.print(f"labkit: lab {broken.id} is broken, not graded: {broken.reason}", highlight=False, markup=False)
    artifacts = artifacts.resolve()
    for lab in labs:
        if (foreign := foreign_folder(artifacts, lab.id)) is not None:
            _usage(f"{foreign} exists and was not made by labkit; choose another folder with --artifacts")
    choices = RunChoices(
        seed=seed if seed is not None else secrets.randbelow(2**31),
        services=services,
        sandbox=sandbox,
        until=until,
        extra_graders=extra_graders.resolve() if extra_graders is not None else None,
        hidden_details=hidden_details,
    )
    progress = fmt == "terminal" and out is None and not is_plain(console)
    options = GradeOptions(choices, show_progress=progress, artifacts=artifacts)
    stop_on_sigterm()
    try:
        run = grade_labs(catalog, list(zip(labs, impls, strict=True)), options, console)
    except HarnessError as error:
        errors.print(f"[magenta]labkit: harness error (not your fault):[/] {error}", highlight=False)
        raise typer.Exit(2) from error
    except Terminated as terminated:
        errors.print("[magenta]labkit:[/] terminated (SIGTERM); learner processes and services were stopped")
        raise typer.Exit(Terminated.EXIT_CODE) from terminated
    except KeyboardInterrupt as interrupt:
        errors.print("[magenta]labkit:[/] interrupted; learner processes and services were stopped")
        raise typer.Exit(2) from interrupt
    if fmt == "github":
        _write_github_files(run)
    if fmt == "terminal" and out is None:
        render_terminal(run, console, verbose=verbose)
    elif out is None:
        typer.echo(render(run, fmt, report_dir=Path.cwd()), nl=False)
    else:
        text = render(run, fmt, report_dir=out.resolve().parent) if fmt != "terminal" else _terminal_text(run, verbose)
        out.write_text(text, encoding="utf-8")
        render_terminal(run, console, verbose=verbose)
    raise typer.Exit(run.exit_code)


def _write_github_files(run: RunResult) -> None:
    """Inside GitHub Actions, append the job summary and the `result` output; elsewhere print the summary."""
    report = render_github(run)
    summary_path, output_path = settings().github_step_summary, settings().github_output
    if summary_path:
        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write(report.summary)
    else:
        errors.print(report.summary, highlight=False, markup=False)
    if output_path:
        with open(output_path, "a", encoding="utf-8") as handle:
            handle.write(f"result={report.result}\n")


def _unwritable(out: Path) -> str | None:
    """Why a report could not be written to ``out``, or None when it can."""
    folder = out.resolve().parent
    if out.is_dir():
        return "is a folder; give a file name"
    if not folder.is_dir():
        return f"folder {folder} does not exist"
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        return "cannot be written (permission denied)"
    return None


def _impl_for(lab: Lab, impl: Path | None, impl_root: Path | None) -> Path:
    folder = impl if impl is not None else (impl_root / lab.id if impl_root is not None else lab.folder)
    folder = folder.resolve()
    if not folder.is_dir():
        raise HarnessError(f"implementation folder {folder} does not exist")
    return folder


def _terminal_text(run: RunResult, verbose: bool) -> str:
    recorder = Console(record=True, width=110, file=io.StringIO())
    render_terminal(run, recorder, verbose=verbose)
    return recorder.export_text()


@app.command()
def hint(
    lab_id: Annotated[str, _lab_argument()],
    stage: Annotated[str | None, typer.Argument(metavar="STAGE", help="number or slug")] = None,
) -> None:
    """Show the hints for a stage (or for every stage) without spoiling the solution."""
    catalog = _catalog()
    try:
        lab = catalog.get(lab_id)
        stages = [lab.stage(stage)] if stage else list(lab.stages)
    except HarnessError as error:
        _usage(str(error))
    for chosen in stages:
        console.print(f"[bold]{chosen.index} {chosen.slug}[/] — {chosen.title}")
        for number, text in enumerate(chosen.hints, start=1):
            console.print(f"  {number}. {text}", highlight=False)
        if not chosen.hints:
            console.print("  (no hints for this stage: the README's section on it is the spec)")


cohort_app = typer.Typer(help="Grade a whole cohort and merge the results into a report.", no_args_is_help=True)
app.add_typer(cohort_app, name="cohort")


@cohort_app.command("grade")
def cohort_grade(
    submissions: Annotated[Path, typer.Argument(metavar="SUBMISSIONS_DIR", help="one folder per student")],
    lab_id: Annotated[str, typer.Option("--lab", help="lab id, e.g. tcp-kv")],
    out: Annotated[Path, typer.Option(help="folder for one JSON result per submission")],
    jobs: Annotated[int, typer.Option(help="submissions graded at the same time")] = 1,
    seed: Annotated[int | None, typer.Option(help="one seed for the whole cohort (default: random, printed)")] = None,
    services: Annotated[ServiceChoice, typer.Option(help="where PostgreSQL and Redis come from")] = ServiceChoice.AUTO,
    sandbox: Annotated[SandboxChoice, typer.Option(help="where each program runs")] = SandboxChoice.PROCESS,
    timeout: Annotated[float, typer.Option(help="wall-clock seconds allowed per submission")] = 900.0,
    extra_graders: Annotated[Path | None, typer.Option(help="a folder with LAB/hidden_<stage>.py checks")] = None,
    hidden_details: Annotated[bool, typer.Option(help="keep hidden checks' details in the results")] = False,
) -> None:
    """Grade every submission in isolation; exit 0 when all were graded, 2 when some hit a harness error."""
    from labkit.cohort import CohortOptions, grade_cohort, submissions_in

    catalog = _catalog()
    lab = _lab(catalog, lab_id)
    if not submissions.is_dir():
        _usage(f"{submissions} is not a folder of submissions")
    if jobs < 1 or timeout <= 0:
        _usage("--jobs must be at least 1 and --timeout positive")
    folders = submissions_in(submissions)
    if not folders:
        _usage(f"{submissions} has no submission folders")
    choices = RunChoices(
        seed=seed if seed is not None else secrets.randbelow(2**31),
        services=services,
        sandbox=sandbox,
        extra_graders=extra_graders.resolve() if extra_graders is not None else None,
        hidden_details=hidden_details,
    )
    options = CohortOptions(lab, out, choices, jobs, timeout)
    console.print(f"grading {len(folders)} submissions of {lab.id} with {jobs} job(s), seed {choices.seed}")
    stop_on_sigterm()
    try:
        outcomes = grade_cohort(
            folders,
            options,
            lambda o: console.print(
                f"  {o.student}: {o.points:g}/{o.max_points} (exit {o.exit_code}, {o.duration_s:.1f} s)"
                + "".join(f"\n    note: {note}" for note in o.notes),
                highlight=False,
            ),
        )
    except KeyboardInterrupt as interrupted:  # Ctrl-C or SIGTERM: every running grading was stopped first
        errors.print(
            f"labkit cohort: interrupted; the gradings in progress were stopped (those that finished are in {out})",
            highlight=False,
        )
        raise typer.Exit(Terminated.EXIT_CODE if isinstance(interrupted, Terminated) else 130) from interrupted
    console.print(f"results in {out}; merge them with: labkit cohort report {out} --format html --out report.html")
    raise typer.Exit(2 if any(outcome.exit_code == 2 for outcome in outcomes) else 0)


@cohort_app.command("report")
def cohort_report(
    results: Annotated[list[Path], typer.Argument(metavar="RESULTS...", help="result files or folders of them")],
    fmt: Annotated[str, typer.Option("--format", help="csv or html")] = "html",
    out: Annotated[Path | None, typer.Option(help="write the report here instead of stdout")] = None,
) -> None:
    """Merge result files into one report: scores, stage pass rates, distribution, most failed checks."""
    from labkit.cohort_report import load_results, render_csv, render_html_report

    if fmt not in ("csv", "html"):
        _usage(f"unknown format {fmt!r}; use csv or html")
    try:
        rows = load_results(results)
    except HarnessError as error:
        _usage(str(error))
    text = render_csv(rows) if fmt == "csv" else render_html_report(rows)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"{len(rows)} results → {out}")


@app.command("verify")
def verify_command(
    checkout: Annotated[Path | None, typer.Argument(help="a checkout to compare (e.g. a student repository)")] = None,
    manifest: Annotated[Path | None, typer.Option(help="pinned manifest (default: this labkit's own files)")] = None,
    write_manifest: Annotated[Path | None, typer.Option(help="write this labkit's manifest here and stop")] = None,
) -> None:
    """Show whether a checkout's graders, harness and lab metadata differ from a pinned release.
    Exit 0: identical, 1: differences found, 2: usage error."""
    from labkit.verify import build_manifest, load_manifest, verify

    root = _catalog().root
    if write_manifest is not None:
        write_manifest.write_text(json.dumps(build_manifest(root), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        console.print(f"manifest of {root} → {write_manifest}")
        raise typer.Exit(0)
    if checkout is None or not checkout.is_dir():
        _usage("give the checkout folder to verify")
    try:
        pinned = load_manifest(manifest) if manifest is not None else build_manifest(root)
    except HarnessError as error:
        _usage(str(error))
    result = verify(checkout, pinned)
    for title, names, style in (("modified", result.modified, "red"), ("missing", result.missing, "yellow"),
                                ("added", result.added, "red")):  # fmt: skip
        for name in names:
            console.print(f"[{style}]{title:>8}[/] {name}", highlight=False)
    for note in result.notes:
        console.print(f"[dim]    note[/] {note}", highlight=False)
    against = str(manifest) if manifest is not None else f"labkit {pinned['labkit_version']} at {root}"
    verdict = "identical to" if result.clean else "DIFFERS from"
    console.print(f"{checkout}: graders, harness and lab metadata {verdict} {against}", highlight=False)
    raise typer.Exit(0 if result.clean else 1)


@app.command("new")
def new_lab(
    lab_id: Annotated[str, typer.Argument(metavar="LAB", help="the new lab's id, e.g. rate-limiter")],
    kind: Annotated[str, typer.Option(help="server, driver, client, cluster or none")],
    services: Annotated[str, typer.Option(help="comma-separated: postgres, redis")] = "",
    track: Annotated[str | None, typer.Option(help="default: networking, or data with services")] = None,
    title: Annotated[str | None, typer.Option(help="what the learner builds, in a few words")] = None,
) -> None:
    """Authors: start a lab whose every part (spec, starter, solution, grader, a scenario) passes the kit's tests."""
    from labkit.record import record_all, report, select_scenarios
    from labkit.scaffold import LabSpec, Refused, write_lab

    root = _catalog().root
    chosen = tuple(service.strip() for service in services.split(",") if service.strip())
    try:
        created = write_lab(root, LabSpec(lab_id, kind, chosen, track, title))
    except Refused as refusal:
        typer.echo(f"labkit: {refusal}", err=True)
        raise typer.Exit(2) from refusal
    for path in sorted(created.files):
        console.print(f"  wrote {path}", highlight=False)
    console.print("  added its row to the lab table of README.md", highlight=False)
    catalog = _catalog()
    scenarios = select_scenarios(catalog, created.scenario_id)
    text, code = report(record_all(catalog, scenarios, console, lambda line: errors.print(line, highlight=False)))
    typer.echo(f"  recorded the verdict of {created.scenario_id}\n" if code == 0 else text, nl=False)
    if code != 0:
        typer.echo(f"once that is fixed, record it with: labkit record {created.scenario_id}")
    tests = "tests/test_catalog.py tests/test_labs.py tests/test_scenarios.py"
    typer.echo(f"next: make it your lab (the TODOs in labs/{lab_id}/README.md); check it with\n"
               f"  python -m pytest {tests} -k {lab_id}")  # fmt: skip
    raise typer.Exit(code)


@app.command("record")
def record_command(
    target: Annotated[str, typer.Argument(metavar="LAB[/SCENARIO]", help="a lab's scenarios, or one of them")],
) -> None:
    """Authors: re-record scenario verdicts (tests/scenarios/LAB/*/expected.txt) by grading them as the kit's
    scenario test does, and print a diff of what changed."""
    from labkit.record import record_all, report, select_scenarios

    catalog = _catalog()
    try:
        chosen = select_scenarios(catalog, target)
    except HarnessError as error:
        _usage(str(error))
    text, code = report(record_all(catalog, chosen, console, lambda line: errors.print(line, highlight=False)))
    typer.echo(text, nl=False)
    raise typer.Exit(code)


@app.command("trace")
def trace_command(lab_id: Annotated[str, _lab_argument()]) -> None:
    """Authors: the lab's requirement trace (graders/LAB/trace.toml): each README rule and the checks that exercise
    it, and whatever keeps the trace from being complete. Exit 0: complete, 1: problems found, 2: no trace."""
    from labkit.trace import check_ids, load_trace

    lab = _lab(_catalog(), lab_id)
    try:
        trace = load_trace(lab)
    except HarnessError as error:
        _usage(str(error))
    if trace is None:
        _usage(f"{lab_id} has no requirement trace yet: write graders/{lab_id}/trace.toml (see labkit/trace.py)")
    table = Table(title=f"{lab_id}: {len(trace.rules)} rules, {len(trace.checked)} exercised by checks",
                  title_justify="left")  # fmt: skip
    for column in ("rule", "section", "checks, or why none"):
        table.add_column(column, overflow="fold")
    for rule in trace.rules:
        table.add_row(
            rule.id, rule.section, "\n".join(rule.checks) or f"[dim]unchecked: {escape(rule.unchecked or '')}[/]"
        )
    console.print(table)
    problems = trace.problems(check_ids(lab))
    for problem in problems:
        errors.print(f"[red]✗[/] {escape(problem)}", highlight=False)
    raise typer.Exit(1 if problems else 0)


@app.command("truth")
def truth_command(
    write: Annotated[bool, typer.Option(help="replace the table in README.md")] = False,
) -> None:
    """Authors: how far each grader is proven: rules traced, scenarios, alternatives and mutation figures, as the
    table README.md publishes. Exit 1 when a lab's recorded figures are stale (its grader or solution changed)."""
    from labkit.truth import README_MARKERS, stale_labs, truth_table

    catalog = _catalog()
    table = truth_table(catalog)
    if write:
        readme = catalog.root / "README.md"
        text = readme.read_text(encoding="utf-8")
        start, end = README_MARKERS
        if start not in text or end not in text:
            _usage(f"README.md has no {start} ... {end} section to replace")
        head, rest = text.split(start, 1)
        readme.write_text(head + start + "\n" + table + end + rest.split(end, 1)[1], encoding="utf-8")
        console.print("README.md: grader truth table updated", highlight=False)
    else:
        typer.echo(table, nl=False)
    stale = stale_labs(catalog)
    for lab_id in stale:
        errors.print(f"stale: {lab_id}'s figures predate its grader or solution: labkit mutate {lab_id} --record")
    raise typer.Exit(1 if stale else 0)


@app.command("mutate")
def mutate_command(
    lab_id: Annotated[str, _lab_argument()],
    jobs: Annotated[int, typer.Option(help="mutants graded at once")] = 2,
    sample: Annotated[int | None, typer.Option(help="grade this many mutants, chosen with --seed")] = None,
    only: Annotated[str | None, typer.Option(help="only mutants whose id contains this text")] = None,
    seed: Annotated[int, typer.Option(help="the grading seed, and the sample's")] = 1,
    timeout: Annotated[float | None, typer.Option(help="seconds per mutant (default: 3x the solution's)")] = None,
    out: Annotated[Path | None, typer.Option(help="write every outcome as JSON here")] = None,
    list_only: Annotated[bool, typer.Option("--list", help="list the mutants and stop")] = False,
    record: Annotated[
        bool,
        typer.Option(
            help="keep every verdict in graders/LAB/sensitivity.json (a full run; verdicts recorded "
            "on the same grader and solution are reused, and a stopped run resumes where it stopped)"
        ),
    ] = False,
) -> None:
    """Authors: grade single-change mutants of the lab's reference solution and report how many the grader
    catches (its sensitivity). Exit 0: no unreviewed survivor, 1: survivors to review, 2: usage error."""
    from labkit.mutants import mutants_of
    from labkit.mutation import (
        Progress,
        load_summary,
        reusable_outcomes,
        run_mutation,
        select,
        stale_ledger_entries,
        write_summary,
    )

    lab = _lab(_catalog(), lab_id)
    if record and (sample is not None or only is not None):
        _usage("--record keeps the figures of a full run: leave out --sample and --only")
    if out is not None and (problem := _unwritable(out)) is not None:
        _usage(f"--out {out}: {problem}")
    try:
        every_mutant = mutants_of(lab.solution_folder, lab.mutate)
        chosen = select(every_mutant, sample, seed, only)
        stale = stale_ledger_entries(lab, every_mutant)
    except HarnessError as error:
        _usage(str(error))
    for mutant_id in stale:
        errors.print(
            f"stale review in {lab.grader_folder.name}/mutants.toml: {mutant_id} is no mutant of today's solution "
            "(the reviewed code changed): remove the entry, or review the new mutant",
            highlight=False,
        )
    if list_only:
        for mutant in chosen:
            console.print(f"{mutant.id}\n  {escape(mutant.diff())}", highlight=False)
        raise typer.Exit(0)
    console.print(f"{lab_id}: {len(chosen)} mutants of {lab.solution_folder}, {jobs} at a time", highlight=False)

    def done(outcome: Any) -> None:
        where = f" at {outcome.stage}" if outcome.stage else ""
        console.print(f"  {outcome.verdict:>12}{where}  {outcome.mutant.id}", highlight=False)

    stop_on_sigterm()
    try:
        reuse = reusable_outcomes(lab) if record else None
        earlier_s = float((load_summary(lab) or {}).get("elapsed_s", 0.0)) if reuse else 0.0
        progress = Progress(lab) if record else None
        if progress is not None and reuse is not None:
            kept, kept_s = progress.load()
            if kept:
                console.print(f"resuming an unfinished run: {len(kept)} verdicts kept in {progress.path}")
                reuse, earlier_s = {**kept, **reuse}, earlier_s + kept_s
        report = run_mutation(
            lab,
            chosen,
            jobs=jobs,
            seed=seed,
            timeout_s=timeout,
            on_done=done,
            reuse=reuse,
            reused_elapsed_s=earlier_s,
            progress=progress,
        )
    except HarnessError as error:
        errors.print(f"labkit mutate: {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from error
    except KeyboardInterrupt as interrupted:  # Ctrl-C or SIGTERM: every running grading was stopped first
        errors.print("labkit mutate: interrupted; the gradings in progress were stopped", highlight=False)
        code = Terminated.EXIT_CODE if isinstance(interrupted, Terminated) else 130
        raise typer.Exit(code) from interrupted
    survivors = [o for o in report.outcomes if o.verdict == "survived"]
    for outcome in survivors:
        console.print(f"[yellow]survived[/] {outcome.mutant.id}\n  {escape(outcome.mutant.diff())}", highlight=False)
    summary = report.to_dict()
    if out is not None:
        out.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    if record:
        console.print(f"figures kept in {write_summary(lab, report)}; `labkit truth --write` puts them in README.md")
        if progress is not None:
            progress.finish()
    figure = "n/a" if report.sensitivity is None else f"{report.sensitivity:.1%}"
    console.print(
        f"{lab_id}: {summary['mutants']} mutants: {summary['killed']} killed, {summary['timeout']} timed out, "
        f"{summary['survived']} survived, {summary['equivalent']} equivalent, {summary['out_of_reach']} out of reach, "
        f"{summary['error']} harness errors; sensitivity {figure}; {report.elapsed_s:.0f} s "
        f"(the solution grades in {report.baseline_s:.1f} s)",
        highlight=False,
    )
    raise typer.Exit(1 if survivors else 0)


@app.command()
def doctor() -> None:
    """Report which service providers work here, and why not, and which lab stages this machine cannot run."""
    from labkit.doctor import run_doctor

    try:
        labs = load_catalog(skip_broken=True).labs
    except HarnessError as error:  # the machine's report is still worth having
        errors.print(f"[magenta]labkit:[/] lab requirements not checked: {escape(str(error))}", highlight=False)
        labs = ()
    raise typer.Exit(run_doctor(console, labs))


@app.command()
def watch(
    lab_id: Annotated[str, _lab_argument("lab id, e.g. tcp-kv")],
    impl: Annotated[Path | None, typer.Option(help="implementation folder (default: labs/LAB)")] = None,
    stage: Annotated[str | None, typer.Option(help="grade up to this stage (number or slug)")] = None,
    services: Annotated[ServiceChoice, typer.Option(help="where PostgreSQL and Redis come from")] = ServiceChoice.AUTO,
    poll: Annotated[bool, typer.Option("--poll", help="poll for changes instead of using file events")] = False,
) -> None:
    """Grade now and again whenever you save a file of the implementation; Ctrl-C to stop."""
    from labkit.watch import Watcher, WatchOptions

    catalog = _catalog()
    try:
        lab = catalog.get(lab_id)
        folder = _impl_for(lab, impl, None)
        chosen = ("--stage", str(lab.stage(stage).index)) if stage else ()
    except HarnessError as error:
        _usage(str(error))
    grade_args = (*chosen, "--services", services.value)
    raise typer.Exit(Watcher(WatchOptions(lab.id, folder, grade_args, poll), console).run())


@app.command()
def status() -> None:
    """Your progress per lab: the highest stage passed, the score and when you last graded your labs/LAB."""
    from labkit.progress import load_progress

    catalog = _catalog()
    progress = load_progress(catalog.root)
    table = Table(title="labkit progress (labs/LAB as last graded)", title_justify="left")
    for column in ("lab", "highest stage passed", "score", "last graded", "next"):
        table.add_column(column, overflow="fold")
    for lab in catalog.labs:
        entry = progress.get(lab.id)
        if entry is None:
            table.add_row(lab.id, f"not graded yet (of {len(lab.stages)})", f"–/{lab.max_points}", "never", "")
            continue
        passed = f"{entry.highest_stage} {entry.highest_slug} (of {len(lab.stages)})" if entry.highest_slug else "none"
        when = entry.graded_at.replace("T", " ").replace("+00:00", " UTC")
        table.add_row(lab.id, passed, f"{entry.points:g}/{entry.max_points}", when, entry.next_failure or "done ✓")
    console.print(table)


@app.command()
def reset(
    lab_id: Annotated[str, _lab_argument()],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
    ref: Annotated[str, typer.Option("--from", help="the git commit whose starter to restore")] = "HEAD",
) -> None:
    """Put labs/LAB back to its starter (from git), keeping your work as a backup for `labkit restore`."""
    from labkit.starters import reset_lab

    catalog = _catalog()
    lab = _lab(catalog, lab_id)
    if not yes and not typer.confirm(f"Replace {lab.folder} with the starter from git ({ref})?"):
        console.print("nothing changed")
        raise typer.Exit(1)
    try:
        backup = reset_lab(catalog.root, lab, ref)
    except HarnessError as error:
        _usage(str(error))
    console.print(f"{lab.folder} is the starter again; your work is in {backup}", highlight=False)
    console.print(f"bring it back with: labkit restore {lab.id}", highlight=False)


@app.command()
def restore(
    lab_id: Annotated[str, _lab_argument()],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
) -> None:
    """Bring back the work `labkit reset` put aside; what labs/LAB holds now becomes a backup in turn."""
    from labkit.starters import latest_backup, restore_lab

    catalog = _catalog()
    lab = _lab(catalog, lab_id)
    backup = latest_backup(catalog.root, lab.id)
    if backup is None:
        _usage(f"no backup of {lab.id} to restore (`labkit reset {lab.id}` makes one)")
    if not yes and not typer.confirm(f"Replace {lab.folder} with your backup {backup.name}?"):
        console.print("nothing changed")
        raise typer.Exit(1)
    try:
        restore_lab(catalog.root, lab)
    except HarnessError as error:
        _usage(str(error))
    console.print(f"{lab.folder} holds your work of {backup.name} again", highlight=False)


services_app = typer.Typer(help="The lab's services with its data, for your own experiments.", no_args_is_help=True)
app.add_typer(services_app, name="services")


@services_app.command("up")
def services_up(
    lab_id: Annotated[str, _lab_argument("a lab with services, e.g. query-tuning")],
    impl: Annotated[Path | None, typer.Option(help="implementation folder (default: labs/LAB)")] = None,
    services: Annotated[ServiceChoice, typer.Option(help="where PostgreSQL and Redis come from")] = ServiceChoice.AUTO,
    shell: Annotated[bool, typer.Option(help="open psql / redis-cli when there is one")] = True,
) -> None:
    """Start LAB's services with its data, print your role's URLs, open psql or redis-cli; Ctrl-C removes it all."""
    from labkit.playground import PlaygroundOptions, run_playground

    catalog = _catalog()
    try:
        lab = catalog.get(lab_id)
        folder = _impl_for(lab, impl, None)
    except HarnessError as error:
        _usage(str(error))
    if not lab.services:
        with_services = ", ".join(other.id for other in catalog.labs if other.services)
        _usage(f"{lab.id} uses no services; labs with services: {with_services}")
    try:
        code = run_playground(PlaygroundOptions(lab, folder, services, shell), console)
    except HarnessError as error:
        errors.print(f"[magenta]labkit: harness error (not your fault):[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from error
    raise typer.Exit(code)


tools_app = typer.Typer(
    help="Heavy field tools some stages need, each in its own pinned environment.", no_args_is_help=True
)
app.add_typer(tools_app, name="tools")


def _tool_names(incomplete: str) -> list[str]:
    from labkit.fieldtools import TOOLS

    return [name for name in sorted(TOOLS) if name.startswith(incomplete)]


@tools_app.command("install")
def tools_install(
    name: Annotated[str, typer.Argument(help="the tool, e.g. checkov", autocompletion=_tool_names)],
) -> None:
    """Install a field tool at its pinned version in its own environment (nothing happens when it is there)."""
    from labkit import fieldtools

    try:
        tool = fieldtools.known(name)
    except HarnessError as error:
        _usage(str(error))
    if (python := fieldtools.python_of(tool)) is None:
        console.print(f"installing {tool.requirement} into {fieldtools.home(tool)} (a few minutes)…", highlight=False)
    try:
        installed = fieldtools.install(tool)
    except HarnessError as error:
        errors.print(f"[magenta]labkit: {tool.name} was not installed:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from error
    state = "already installed" if python is not None or installed.already else "installed"
    console.print(f"{tool.requirement} {state} in {installed.folder}", highlight=False)


@tools_app.command("list")
def tools_list() -> None:
    """The field tools labkit pins, and whether each is installed here."""
    from labkit import fieldtools

    table = Table(title=f"field tools (in {fieldtools.tools_dir()})", title_justify="left")
    for column in ("tool", "version", "status", "what for"):
        table.add_column(column, overflow="fold")
    for tool in fieldtools.TOOLS.values():
        installed = fieldtools.python_of(tool) is not None
        status = "installed" if installed else f"not installed: `{tool.install_command}`"
        table.add_row(tool.name, tool.version, status, tool.purpose)
    console.print(table)


def _usage(message: str) -> NoReturn:
    errors.print(f"[red]labkit: usage error:[/] {message}", highlight=False)
    raise typer.Exit(2)
