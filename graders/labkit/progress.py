"""A learner's progress per lab, kept in the checkout (``.labkit/progress.json``, git-ignored; LABKIT_STATE_DIR
names another folder) for `labkit status`.

Only gradings of the learner's own folder (``labs/<lab>``) count: grading a solution or a classmate's copy with
``--impl`` says nothing about the learner's work. A grading that hit a harness error leaves the record as it was,
since it judged nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from labkit.catalog import Catalog
from labkit.results import LabResult, RunResult, Status
from labkit.settings import settings

STATE_FOLDER = ".labkit"
PROGRESS_FILE = "progress.json"


@dataclass(frozen=True)
class LabProgress:
    highest_stage: int  # the last stage of the unbroken run of passed stages from stage 1; 0: none yet
    highest_slug: str | None
    points: float
    max_points: int  # the lab's full total, whatever --stage the grading stopped at
    graded_at: str  # ISO 8601, UTC
    next_failure: str | None = None  # "stage N slug · check": where the last grading stopped


def state_folder(root: Path) -> Path:
    """Where progress and backups are kept: ``.labkit`` in the checkout, or LABKIT_STATE_DIR."""
    return settings().state_dir or root / STATE_FOLDER


def progress_path(root: Path) -> Path:
    return state_folder(root) / PROGRESS_FILE


def load_progress(root: Path) -> dict[str, LabProgress]:
    """The recorded progress; an unreadable file counts as none (it is only a convenience)."""
    try:
        raw = json.loads(progress_path(root).read_text(encoding="utf-8"))
        return {lab_id: LabProgress(**entry) for lab_id, entry in raw["labs"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def record_progress(catalog: Catalog, run: RunResult) -> None:
    """Updates the progress of every lab of ``run`` that graded the learner's own folder."""
    updates = {}
    for result in run.labs:
        lab = next((lab for lab in catalog.labs if lab.id == result.id), None)
        if lab is None or result.harness_failed or Path(result.impl).resolve() != lab.folder.resolve():
            continue
        updates[lab.id] = summarise(result, lab.max_points)
    if updates:
        save_progress(catalog.root, {**load_progress(catalog.root), **updates})


def summarise(result: LabResult, lab_total: int) -> LabProgress:
    highest, slug = 0, None
    for stage in result.stages:
        if stage.status not in (Status.PASSED, Status.NOT_RUN):
            break
        highest, slug = stage.index, stage.slug
    failure = None
    if (failed := result.first_failed_stage) is not None:
        check = next(c for c in failed.checks if c.status in (Status.FAILED, Status.TIMEOUT, Status.ERROR))
        failure = f"stage {failed.index} {failed.slug} · {check.name}"
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return LabProgress(highest, slug, result.points, lab_total, now, failure)


def save_progress(root: Path, labs: dict[str, LabProgress]) -> None:
    """Writes the whole file atomically: a reader (another `labkit grade`, `labkit status`) sees the old file or
    the new one, never half of one."""
    path = progress_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"labs": {lab_id: asdict(entry) for lab_id, entry in sorted(labs.items())}}, indent=1)
    handle, temporary = tempfile.mkstemp(prefix=".progress-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
