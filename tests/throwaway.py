"""Throwaway kits for the kit's own tests: a kit root of a test's own, with small labs, their graders, an
implementation and an instructor's private checks, graded by the real `labkit` CLI with LABKIT_HOME at that root.

Everything a kit writes lives under the folder its test gives it (the test's tmp_path); nothing here picks a
port, keeps global state or changes directory, so tests that build kits can run in parallel processes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import KIT, grade_json, run_labkit

TomlValue = str | int | float | bool | Sequence[str]

# What a copy of the checkout leaves out: version control, environments, build output and caches.
NOT_COPIED = (".git", ".venv", ".nox", "build", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache")


@dataclass(frozen=True)
class Stage:
    """A stage of a throwaway lab: the source of its module and the lab.toml numbers tests depend on."""

    source: str
    points: int = 1
    timeout: float = 30


class ThrowawayKit:
    """A kit under ``folder``: its root at ``folder/kit``, an implementation at ``folder/impl`` and private
    graders (for ``--extra-graders``) at ``folder/private``. Every builder method may be called again, to add files
    or rewrite the ones it wrote. Sources are dedented, so tests may indent them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root = folder / "kit"
        self.impl_folder = folder / "impl"
        self.private = folder / "private"
        # What makes a folder a kit root: without it, LABKIT_HOME would quietly fall back to the checkout.
        (self.root / "graders" / "labkit").mkdir(parents=True, exist_ok=True)
        (self.root / "labs").mkdir(exist_ok=True)

    @property
    def env(self) -> dict[str, str]:
        """The environment that points `labkit` at this kit."""
        return {"LABKIT_HOME": str(self.root)}

    def lab(
        self,
        lab_id: str,
        kind: str = "none",
        *,
        stages: Mapping[str, str | Stage] | None = None,
        run: Mapping[str, TomlValue] | None = None,
        services: Sequence[str] = (),
        helpers: Mapping[str, str] | None = None,
        files: Mapping[str, str] | None = None,
        toml: str | None = None,
    ) -> ThrowawayKit:
        """Writes lab ``lab_id``: its lab.toml (``toml`` verbatim, malformed if need be, or made from ``kind``,
        ``run`` options, ``services`` and ``stages``), a ``stage_<slug>.py`` per stage and a module per helper
        (``conftest`` too) in graders/<lab>/, and ``files`` (its starter) in labs/<lab>/."""
        specs = {slug: stage if isinstance(stage, Stage) else Stage(stage) for slug, stage in (stages or {}).items()}
        lab_folder = self.root / "labs" / lab_id
        if toml is None:
            toml = lab_toml(lab_id, kind, run or {}, services, specs)
        write(lab_folder / "lab.toml", toml, dedent=False)
        for name, source in (files or {}).items():
            write(lab_folder / name, source)
        graders = self.root / "graders" / lab_id
        for slug, stage in specs.items():
            write(graders / f"stage_{slug.replace('-', '_')}.py", stage.source)
        for name, source in (helpers or {}).items():
            write(graders / f"{name}.py", source)
        return self

    def impl(
        self,
        files: Mapping[str, str] | None = None,
        *,
        run_toml: Mapping[str, TomlValue] | None = None,
        copy_of: Path | None = None,
    ) -> Path:
        """The implementation folder, with a copy of ``copy_of`` (a starter, say), then ``files`` and a run.toml
        made from ``run_toml`` written into it."""
        if copy_of is not None:
            shutil.copytree(copy_of, self.impl_folder, ignore=shutil.ignore_patterns(*NOT_COPIED), dirs_exist_ok=True)
        self.impl_folder.mkdir(parents=True, exist_ok=True)
        for name, source in (files or {}).items():
            write(self.impl_folder / name, source)
        if run_toml is not None:
            write(self.impl_folder / "run.toml", toml_table(run_toml), dedent=False)
        return self.impl_folder

    def extra_graders(self, lab_id: str, modules: Mapping[str, str]) -> Path:
        """Writes an instructor's private modules (``hidden_<stage>``) for ``lab_id``; returns the folder to pass
        as ``--extra-graders``."""
        for name, source in modules.items():
            write(self.private / lab_id / f"{name}.py", source)
        return self.private

    def copy_checkout(self, *parts: str) -> ThrowawayKit:
        """Copies ``parts`` of the kit's checkout ("graders", "README.md", ...), or all of it, into this kit."""
        skipped = shutil.ignore_patterns(*NOT_COPIED)
        names = [entry.name for entry in KIT.iterdir()]
        for part in parts or sorted(set(names) - skipped(str(KIT), names)):
            source, target = KIT / part, self.root / part
            if source.is_dir() and not source.is_symlink():
                shutil.copytree(source, target, ignore=skipped, symlinks=True, dirs_exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target, follow_symlinks=False)
        return self

    def labkit(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Runs `labkit` on this kit."""
        return run_labkit(*args, env={**self.env, **(env or {})})

    def grade(
        self, lab_id: str, *args: str, impl: Path | None = None, env: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Grades ``impl`` (by default the lab's starter folder) with this kit's lab, as the kit's own tests grade:
        JSON on stdout, the scenarios' seed and services unless ``args`` choose; returns exit code and results."""
        return grade_json(lab_id, impl, *args, env={**self.env, **(env or {})})


def lab_toml(
    lab_id: str, kind: str, run: Mapping[str, TomlValue], services: Sequence[str], stages: Mapping[str, Stage]
) -> str:
    text = toml_table({"id": lab_id, "title": lab_id, "track": "test", "services": list(services)})
    text += "[run]\n" + toml_table({"kind": kind, **run})
    for slug, stage in stages.items():
        numbers: dict[str, TomlValue] = {"slug": slug, "title": slug, "points": stage.points, "timeout": stage.timeout}
        text += "[[stages]]\n" + toml_table(numbers)
    return text


def toml_table(values: Mapping[str, TomlValue]) -> str:
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in values.items())


def toml_value(value: TomlValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    return "[" + ", ".join(toml_value(item) for item in value) + "]"


def write(path: Path, text: str, *, dedent: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text) if dedent else text, encoding="utf-8")
