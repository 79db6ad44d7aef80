"""The learner's files, read once per check from the implementation folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from findings import Finding
from labkit.checks import fail


@dataclass(frozen=True)
class Submission:
    folder: Path

    def text(self, name: str) -> str:
        """The text of the learner's file ``name``; a missing or non-UTF-8 file fails the check."""
        path = self.folder / name
        if not path.is_file():
            fail(f"{name} is missing from your folder", hint=f"create {name} next to README.md, as README.md says")
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            fail(f"{name} is not UTF-8 text", hint="save the file as UTF-8")

    def files(self, folder: str, suffixes: tuple[str, ...]) -> list[str]:
        """The names (relative to the implementation folder) of the files with these suffixes under ``folder``."""
        root = self.folder / folder
        if not root.is_dir():
            fail(f"{folder}/ is missing from your folder", hint=f"create {folder}/ next to README.md")
        found = sorted(
            path.relative_to(self.folder).as_posix()
            for path in root.rglob("*")
            if path.is_file() and path.suffix in suffixes
        )
        if not found:
            fail(f"{folder}/ holds no {' or '.join(suffixes)} file", hint=f"put your files in {folder}/")
        return found


def finding_at(file: str, line: int, rule: str, problem: str, change: str) -> Finding:
    return Finding(rule, file, line, problem, change)
