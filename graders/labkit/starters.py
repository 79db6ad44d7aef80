"""`labkit reset` and `labkit restore`: put a lab's starter back, keeping the learner's work to bring back.

The starter's pristine content comes from git (``git archive REF labs/<lab>``), not from a copy kept elsewhere:
the checkout already holds every version of it, including updates the kit received after the learner began, and
``--from`` names another commit when the learner committed their work over the starter. The learner's folder is
moved whole (untracked and ignored files too) into ``.labkit/backups/<lab>/<time>/``.
The moves are renames, so LABKIT_STATE_DIR must be on the checkout's file system.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from labkit.catalog import Lab
from labkit.errors import HarnessError
from labkit.progress import state_folder

GIT_TIMEOUT_S = 60.0


def backups_folder(root: Path, lab_id: str) -> Path:
    return state_folder(root) / "backups" / lab_id


def latest_backup(root: Path, lab_id: str) -> Path | None:
    folder = backups_folder(root, lab_id)
    kept = sorted(path for path in folder.iterdir() if path.is_dir()) if folder.is_dir() else []
    return kept[-1] if kept else None


def reset_lab(root: Path, lab: Lab, ref: str = "HEAD") -> Path:
    """Replaces ``labs/<lab>`` with its content at ``ref``; returns the backup of what was there."""
    staging = Path(tempfile.mkdtemp(prefix="starter-", dir=_state(root)))
    try:
        _extract_starter(root, lab, ref, staging)
        return _swap_in(root, lab, staging / "labs" / lab.id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def restore_lab(root: Path, lab: Lab) -> Path:
    """Brings back the newest backup; what the lab folder held becomes a backup in turn, so nothing is lost."""
    backup = latest_backup(root, lab.id)
    if backup is None:
        raise HarnessError(f"no backup of {lab.id} to restore (`labkit reset {lab.id}` makes one)")
    staging = Path(tempfile.mkdtemp(prefix="restore-", dir=_state(root)))
    try:
        backup.rename(staging / lab.id)
        try:
            _swap_in(root, lab, staging / lab.id)
        except BaseException:
            (staging / lab.id).rename(backup)
            raise
        return backup
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(root: Path, lab: Lab, replacement: Path) -> Path:
    """Moves the lab folder into a new backup and ``replacement`` into its place (renames: same file system)."""
    backup = backups_folder(root, lab.id) / datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    backup.parent.mkdir(parents=True, exist_ok=True)
    if lab.folder.exists():
        lab.folder.rename(backup)
    else:
        backup.mkdir()
    replacement.rename(lab.folder)
    return backup


def _extract_starter(root: Path, lab: Lab, ref: str, into: Path) -> None:
    path = f"labs/{lab.id}"
    try:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", ref, "--", path],
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise HarnessError(f"git could not give the starter of {lab.id}: {error}") from error
    if archive.returncode != 0:
        reason = archive.stderr.decode(errors="replace").strip()
        raise HarnessError(f"git has no {path} at {ref}: {reason} (reset needs the kit as a git clone)")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    if not (into / path).is_dir():
        raise HarnessError(f"git has no {path} at {ref}")


def _state(root: Path) -> Path:
    """The state folder, where staging happens: renames from there into the lab folder need one file system."""
    folder = state_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
