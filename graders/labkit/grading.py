"""One `labkit grade` run over one or more labs: seeds, run ids, scratch folders, progress and clean-up."""

from __future__ import annotations

import platform
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from labkit import __version__
from labkit.artifacts import keep_artifacts
from labkit.catalog import Catalog, Lab
from labkit.engine import GradeRequest, run_grader
from labkit.errors import HarnessError, SandboxLost
from labkit.progress import record_progress
from labkit.results import LabResult, RunResult
from labkit.run_config import RunChoices, RunConfig
from labkit.settings import settings
from labkit.sweep import kill_marked


@dataclass(frozen=True)
class GradeOptions:
    choices: RunChoices  # the same for every lab of the run
    show_progress: bool = True
    artifacts: Path | None = None  # where attached files are kept (absolute); None: only the results name them


def new_run_id() -> str:
    """A marker for every process of one run, after a prefix by which a test session or cohort finds its own runs."""
    return f"{settings().run_id_prefix}{uuid.uuid4().hex[:12]}"


def grade_labs(catalog: Catalog, targets: list[tuple[Lab, Path]], options: GradeOptions, console: Console) -> RunResult:
    run = RunResult(
        labkit_version=__version__,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seed=options.choices.seed,
        services=options.choices.services,
        sandbox=options.choices.sandbox,
        python=platform.python_version(),
        platform=f"{sys.platform}-{platform.machine()}",
    )
    started = time.monotonic()
    for lab, impl in targets:
        run.labs.append(_grade_one(catalog, lab, impl, options, console))
    if options.artifacts is not None and any(_attached(lab) for lab in run.labs):
        run.artifacts_root = str(options.artifacts)
    run.duration_s = round(time.monotonic() - started, 3)
    try:
        record_progress(catalog, run)
    except OSError as error:  # a read-only checkout still grades; only `labkit status` misses this run
        print(f"labkit: progress not saved: {error}", file=sys.stderr)
    return run


def _grade_one(catalog: Catalog, lab: Lab, impl: Path, options: GradeOptions, console: Console) -> LabResult:
    try:
        return _grade_once(catalog, lab, impl, options, console)
    except SandboxLost as lost:
        # The engine, or something on this machine, stopped the container that holds the run's network: the
        # checks after it could not start the program. Once more from the start, with a network of its own.
        print(f"labkit: {lost.message}; grading {lab.id} again from the start", file=sys.stderr)
        return _grade_once(catalog, lab, impl, options, console, last_try=True)


def _grade_once(
    catalog: Catalog, lab: Lab, impl: Path, options: GradeOptions, console: Console, *, last_try: bool = False
) -> LabResult:
    run_id = new_run_id()
    run_dir = Path(tempfile.mkdtemp(prefix=f"labkit-{lab.id}-"))
    config = RunConfig(lab.id, impl, catalog.root, run_dir, run_id, options.choices)
    request = GradeRequest(lab, config)
    keep = False
    started = time.monotonic()
    try:
        if not options.show_progress:
            result = run_grader(request)
        else:
            with console.status(f"grading {lab.id}…") as status:
                result = run_grader(request, lambda event: _progress(status, lab, event))
        if options.artifacts is not None:
            keep_artifacts(result, run_dir, options.artifacts)
    except HarnessError as error:
        if isinstance(error, SandboxLost) and not last_try:
            raise  # after the clean-up below
        keep = True
        result = LabResult(id=lab.id, title=lab.title, impl=str(impl), error=f"{error} (logs kept in {run_dir})")
    finally:
        kill_marked(run_id, prefix=True)
        needs_engine = any(requirement.kind == "docker" for stage in lab.stages for requirement in stage.requires)
        if options.choices.may_use_docker or needs_engine:  # a grader may build and run images (containerize)
            from labkit.containers import sweep_run_quietly  # docker-py loads only when containers may exist

            sweep_run_quietly(run_id)  # containers of a grader that was killed or interrupted mid-run
        # Kept logs never hold the grader's private copy, which may include an instructor's hidden checks.
        shutil.rmtree(run_dir if not keep else run_dir / "graders", ignore_errors=True)
    result.lab_max_points = result.lab_max_points or lab.max_points
    result.duration_s = round(time.monotonic() - started, 3)
    return result


def _attached(lab: LabResult) -> bool:
    return any(check.artifacts for stage in lab.stages for check in stage.checks)


def _progress(status: Any, lab: Lab, event: dict[str, Any]) -> None:
    if event.get("event") == "check-start":
        status.update(f"grading {lab.id} · {event['stage']} · {event['check']}…")
