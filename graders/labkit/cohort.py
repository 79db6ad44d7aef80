"""Grading a cohort: every submission in its own `labkit grade` process, several at a time.

A submission is a folder (one per student) that holds either the lab's files directly or a student repository
with ``labs/<lab>/``. It is copied into a private staging folder first: symbolic links that lead outside the
submission are dropped (and reported), so a submission can never make the grader read, or a report show, a file
of the grading machine. Each grading process has a wall-clock budget; a crash, a hang or a harness error in one
submission becomes that submission's result and never touches another's. Files its checks attached are kept next
to its result: ``OUT/<student>.json`` and ``OUT/<student>.artifacts/<lab>/...``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from labkit import __version__
from labkit.catalog import Lab
from labkit.results import SCHEMA_VERSION
from labkit.run_config import RunChoices
from labkit.subgrade import grade_all, run_grade

DEFAULT_SUBMISSION_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class CohortOptions:
    lab: Lab
    out_dir: Path
    choices: RunChoices  # every submission is graded with these: one seed, one provider, ...
    jobs: int = 1
    timeout_s: float = DEFAULT_SUBMISSION_TIMEOUT_S


@dataclass
class SubmissionOutcome:
    student: str
    points: float
    max_points: int
    exit_code: int
    duration_s: float
    notes: list[str] = field(default_factory=list)


def submissions_in(folder: Path) -> list[Path]:
    """Every visible sub-folder is one student's submission; files and dot-folders are ignored."""
    return sorted(path for path in folder.iterdir() if path.is_dir() and not path.name.startswith("."))


def lab_folder_of(submission: Path, lab: Lab) -> Path:
    """A student repository keeps the lab in labs/<lab>; a bare submission is the lab folder itself."""
    nested = submission / "labs" / lab.id
    # A link would make another folder of the machine (another student's, the kit's solutions) the submission.
    if (submission / "labs").is_symlink() or nested.is_symlink():
        return submission
    return nested if nested.is_dir() else submission


def stage_submission(source: Path, target: Path) -> list[str]:
    """Copies ``source`` to ``target`` without following links out of it; returns what was left out and why."""
    notes: list[str] = []
    root = source.resolve()
    for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
        here = Path(dirpath)
        relative = here.relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in [*dirnames, *filenames]:
            path = here / name
            if not path.is_symlink():
                if name in filenames:
                    shutil.copy2(path, target / relative / name, follow_symlinks=False)
                continue
            resolved = path.resolve()
            if resolved != root and root not in resolved.parents:
                notes.append(f"left out {relative / name}: a symbolic link to a path outside the submission")
            else:
                os.symlink(os.readlink(path), target / relative / name)
        dirnames[:] = [name for name in dirnames if not (here / name).is_symlink()]
    return notes


def grade_cohort(
    submissions: list[Path], options: CohortOptions, on_done: Callable[[SubmissionOutcome], None]
) -> list[SubmissionOutcome]:
    options.out_dir.mkdir(parents=True, exist_ok=True)
    return grade_all(submissions, lambda submission: _grade_submission(submission, options), options.jobs, on_done)


def _grade_submission(submission: Path, options: CohortOptions) -> SubmissionOutcome:
    student = submission.name
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"labkit-cohort-{student[:20]}-") as staging:
        impl = Path(staging) / options.lab.id
        notes = stage_submission(lab_folder_of(submission, options.lab), impl)
        command = [
            sys.executable, "-m", "labkit", "grade", options.lab.id, "--impl", str(impl), "--format", "json",
            *options.choices.grade_arguments(),
            "--artifacts", str((options.out_dir / f"{student}.artifacts").resolve()),
        ]  # fmt: skip
        result, exit_code, failure = run_grade(command, options.timeout_s)
    duration = round(time.monotonic() - started, 3)
    if result is None:
        exit_code = 2
        result = _failed_run(options, student, duration, notes, failure)
    result.setdefault("cohort", {}).update(student=student, notes=notes)
    path = options.out_dir / f"{student}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lab = result["labs"][0]
    return SubmissionOutcome(student, lab["points"], lab["max_points"], exit_code, duration, notes)


def _failed_run(options: CohortOptions, student: str, duration: float, notes: list[str], why: str) -> dict[str, Any]:
    """A result in the usual shape for a submission whose grading produced none, so reports keep its row."""
    lab = options.lab
    return {
        "schema_version": SCHEMA_VERSION,
        "labkit_version": __version__,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": duration,
        "seed": options.choices.seed,
        "services": options.choices.services,
        "sandbox": options.choices.sandbox,
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "exit_code": 2,
        "artifacts_root": None,
        "labs": [
            {
                "id": lab.id, "title": lab.title, "impl": student, "stages": [], "services": None,
                "error": f"harness error: {why}",
                "points": 0, "max_points": lab.max_points, "not_run_points": 0, "passed": False,
            }
        ],
        "cohort": {"student": student, "notes": notes},
    }  # fmt: skip
