"""Files a check attaches for the learner (an HTML timeline, a packet log), from the check to the learner's disk.

During the run the grader writes each attachment under the run's scratch folder (``<run dir>/artifacts/<lab>/
<check folder>/<name>``); the results name it by that path below ``artifacts/``. The run folder is deleted after
grading, so `labkit grade` then copies the files the results name to ``<root>/<lab>/...`` (default root:
``./labkit-artifacts``), replacing what an earlier grading of that lab left there. Sizes are capped per artifact and
per lab graded: beyond a cap a file is truncated and its record says so, never a failed run.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from labkit.results import Artifact, LabResult

MAX_ARTIFACT_BYTES = 5 * 2**20
MAX_RUN_BYTES = 20 * 2**20
STAGING_FOLDER = "artifacts"  # below the run's scratch folder
MARKER = ".labkit-artifacts"  # a lab folder under the root that labkit made, and may therefore replace
DEFAULT_ROOT = "labkit-artifacts"
MAX_NAME = 100
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

Content = str | bytes | Path


def safe_name(name: str, fallback: str = "artifact") -> str:
    """One file name that stays inside its folder: separators and other unusual characters become ``_``, leading
    dots go (no ``..``, no hidden files), and a long name is shortened keeping its extension."""
    cleaned = UNSAFE.sub("_", name).lstrip("._-") or fallback
    if len(cleaned) > MAX_NAME:
        suffix = Path(cleaned).suffix[:20]
        cleaned = cleaned[: MAX_NAME - len(suffix)] + suffix
    return cleaned


def check_folder(stage_slug: str, check_name: str) -> str:
    """``framing--split-frames`` for ``check_split_frames`` of stage ``framing``."""
    return safe_name(f"{stage_slug}--{check_name.removeprefix('check_').replace('_', '-')}")


def size_text(count: int) -> str:
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{count} bytes"


@dataclass
class ArtifactStaging:
    """The grader's side: where this lab's attachments are written, and how much of the run's cap is left."""

    run_dir: Path
    lab_id: str
    max_artifact: int = MAX_ARTIFACT_BYTES
    max_run: int = MAX_RUN_BYTES
    used: int = 0
    folders: dict[str, str] = field(default_factory=dict)  # check node id -> its folder, unique in the lab

    def shelf(self, nodeid: str, stage_slug: str, check_name: str) -> CheckShelf:
        if nodeid not in self.folders:
            folder, taken, number = check_folder(stage_slug, check_name), set(self.folders.values()), 2
            unique = folder
            while unique in taken:
                unique, number = f"{folder}-{number}", number + 1
            self.folders[nodeid] = unique
        return CheckShelf(self, f"{self.lab_id}/{self.folders[nodeid]}")


@dataclass
class CheckShelf:
    """One check's attachments: ``relative`` is its folder below the staging root, ``<lab>/<check folder>``."""

    staging: ArtifactStaging
    relative: str
    names: set[str] = field(default_factory=set)

    def store(self, name: str, content: Content, description: str = "") -> Artifact:
        staging = self.staging
        allowed = max(0, min(staging.max_artifact, staging.max_run - staging.used))
        data, attached = _read_capped(content, allowed)
        file_name = self._unique(safe_name(name))
        folder = staging.run_dir / STAGING_FOLDER / self.relative
        folder.mkdir(parents=True, exist_ok=True)
        (staging.run_dir / STAGING_FOLDER).chmod(0o700)  # a hidden check's files: never a sandboxed learner's to read
        (folder / file_name).write_bytes(data)
        staging.used += len(data)
        return Artifact(file_name, f"{self.relative}/{file_name}", description, len(data), self._note(attached, data))

    def _unique(self, name: str) -> str:
        stem, suffix, number, unique = Path(name).stem, Path(name).suffix, 2, name
        while unique in self.names:
            unique, number = f"{stem}-{number}{suffix}", number + 1
        self.names.add(unique)
        return unique

    def _note(self, attached: int, kept: bytes) -> str | None:
        if attached <= len(kept):
            return None
        why = (
            f"at most {size_text(self.staging.max_artifact)} per artifact"
            if len(kept) == self.staging.max_artifact
            else f"the {size_text(self.staging.max_run)} allowed for a lab's artifacts were used up"
        )
        return f"truncated: {size_text(attached)} attached, the first {size_text(len(kept))} kept; {why}"


def _read_capped(content: Content, limit: int) -> tuple[bytes, int]:
    """At most ``limit`` bytes of ``content``, and its whole size; a large file is never read in full."""
    if isinstance(content, Path):
        with content.open("rb") as handle:
            data = handle.read(limit)
            return data, max(os.fstat(handle.fileno()).st_size, len(data))
    raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    return raw[:limit], len(raw)


def foreign_folder(root: Path, lab_id: str) -> Path | None:
    """``root/<lab>`` when it exists but labkit did not make it: it is never replaced (it may be someone's work)."""
    target = root / lab_id
    if target.is_symlink() or (target.exists() and not (target / MARKER).is_file()):
        return target
    return None


def keep_artifacts(lab: LabResult, run_dir: Path, root: Path) -> int:
    """Copies the files ``lab``'s results name from the run folder to ``root``, replacing what an earlier grading of
    the lab kept there; returns how many were kept. A file that cannot be kept gets a note instead."""
    artifacts = [artifact for stage in lab.stages for check in stage.checks for artifact in check.artifacts]
    target = root / lab.id
    if (foreign := foreign_folder(root, lab.id)) is not None:
        for artifact in artifacts:
            artifact.note = f"not kept: {foreign} exists and was not made by labkit"
        return 0
    shutil.rmtree(target, ignore_errors=True)
    if not artifacts:
        return 0
    target.mkdir(parents=True, exist_ok=True)
    (target / MARKER).write_text("made by labkit grade: replaced by each grading of this lab\n", encoding="utf-8")
    kept = 0
    for artifact in artifacts:
        try:
            _copy_named(run_dir / STAGING_FOLDER, root, lab.id, artifact)
            kept += 1
        except OSError as error:
            artifact.note = f"not kept: {error}"
    return kept


def _copy_named(staging: Path, root: Path, lab_id: str, artifact: Artifact) -> None:
    """Copies one artifact by the path its record names, refusing any path that is not ``<lab>/<folder>/<name>``
    with safe parts and any source that is not a regular file (a link would reach outside the run folder)."""
    parts = artifact.path.split("/")
    if len(parts) != 3 or parts[0] != lab_id or any(safe_name(part) != part for part in parts):
        raise OSError(f"refused path {artifact.path!r}")
    descriptor = os.open(staging.joinpath(*parts), os.O_RDONLY | os.O_NOFOLLOW)
    with open(descriptor, "rb") as source:
        if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
            raise OSError(f"{artifact.path} is not a regular file")
        data = source.read(artifact.bytes)
    destination = root.joinpath(*parts)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(data)
