"""Tamper evidence: hashes of everything that decides a grade, compared with a pinned release.

What decides a grade is the harness and the graders (``graders/``), the lab metadata (``labs/*/lab.toml``:
stages, points, timeouts) and ``pyproject.toml``. A learner's own files (starter code, READMEs) are not in
the manifest: changing them is the point of a lab. Grading in CI always uses the instructor's pinned checkout, so
a difference reported here cannot change a grade; it makes an attempt visible.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit import __version__
from labkit.errors import HarnessError

IGNORED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"})
# Files in a lab folder that a test runner would read: they never affect labkit, but their presence is telling.
RUNNER_FILES = ("conftest.py", "pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


def graded_files(root: Path) -> list[Path]:
    files = [path for path in (root / "graders").rglob("*") if path.is_file() or path.is_symlink()]
    files = [path for path in files if not IGNORED_PARTS.intersection(path.parts) and ".egg-info" not in str(path)]
    files += list((root / "labs").glob("*/lab.toml"))
    if (root / "pyproject.toml").is_file():
        files.append(root / "pyproject.toml")
    return sorted(files)


def digest(path: Path) -> str:
    if path.is_symlink():
        return "symlink:" + str(path.readlink())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_manifest(root: Path) -> dict[str, Any]:
    return {
        "labkit_version": __version__,
        "files": {path.relative_to(root).as_posix(): digest(path) for path in graded_files(root)},
    }


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data.get("files"), dict):
            raise ValueError("no 'files' table")
    except (OSError, ValueError) as error:
        raise HarnessError(f"{path} is not a labkit manifest: {error}") from error
    return data


@dataclass
class Verification:
    modified: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.modified or self.missing or self.added)


def verify(checkout: Path, pinned: dict[str, Any]) -> Verification:
    expected: dict[str, str] = pinned["files"]
    actual = build_manifest(checkout)["files"]
    result = Verification(
        modified=sorted(name for name in expected if name in actual and actual[name] != expected[name]),
        missing=sorted(name for name in expected if name not in actual),
        added=sorted(name for name in actual if name not in expected),
    )
    for lab_toml in sorted((checkout / "labs").glob("*/lab.toml")):
        for name in RUNNER_FILES:
            if (lab_toml.parent / name).exists():
                relative = (lab_toml.parent / name).relative_to(checkout).as_posix()
                result.notes.append(f"{relative} is present; labkit never reads it, so it cannot change a grade")
    return result
