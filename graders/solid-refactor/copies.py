"""Copies of the learner's folder with rule modules removed or added: how the grader runs a rule alone, or its own
rules beside the learner's, without ever writing into the learner's folder."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".venv", "venv", ".mypy_cache", ".pytest_cache")


def rule_modules(folder: Path) -> list[str]:
    """The rule modules of ``folder/rules``: its .py files whose names do not start with "_", sorted."""
    rules = folder / "rules"
    return sorted(path.stem for path in rules.glob("*.py") if not path.stem.startswith("_"))


def prepared_copy(
    impl: Path, scratch: Path, *, keep: Collection[str] | None = None, add: Mapping[str, str] | None = None
) -> Path:
    """A copy of ``impl`` under ``scratch`` whose rules/ holds only the rule modules in ``keep`` (all when None)
    and the modules of ``add`` (name -> source). Helper modules (``_*.py``) and everything else stay."""
    folder = Path(tempfile.mkdtemp(prefix="copy-", dir=scratch)) / "impl"
    shutil.copytree(impl, folder, ignore=IGNORED)
    if keep is not None:
        for name in set(rule_modules(folder)) - set(keep):
            (folder / "rules" / f"{name}.py").unlink()
    for name, source in (add or {}).items():  # stage 1 made sure rules/ is a package
        (folder / "rules").mkdir(exist_ok=True)
        (folder / "rules" / f"{name}.py").write_text(source, encoding="utf-8")
    return folder


def described(keep: Collection[str] | None, add: Mapping[str, str] | None = None) -> str:
    """The copy as the learner should picture it, for messages."""
    parts = []
    if keep is not None:
        kept = ", ".join(f"{name}.py" for name in sorted(keep)) or "no rule module"
        parts.append(f"a copy of your folder whose rules/ holds {kept} (and your _ helpers)")
    if add:
        added = ", ".join(f"{name}.py" for name in sorted(add))
        parts.append(f"a copy of your folder with the grader's {added} added to rules/")
    return "; ".join(parts) or "your folder"
