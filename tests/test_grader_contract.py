"""Lab graders use labkit's public API only: the import contract holds on the kit, and breaks on a planted
import of a private module."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from support import KIT

sys.path.insert(0, str(KIT / "tests" / "contracts"))
from grader_imports import PUBLIC, check, labkit_modules


def test_every_lab_grader_keeps_the_contract() -> None:
    done = check(KIT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_public_modules_exist() -> None:
    assert set(labkit_modules(KIT)) >= PUBLIC


@pytest.mark.parametrize(
    "planted",
    ["from labkit.plugin import GradingState", "from labkit import context", "import labkit.fixtures",
     "from labkit.tools._sqlsplit import split_statements", "from labkit.services.embedded import EmbeddedProvider"],
)  # fmt: skip
def test_a_private_import_in_a_lab_grader_breaks_the_contract(tmp_path: Path, planted: str) -> None:
    shutil.copytree(KIT / "graders", tmp_path / "graders", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (tmp_path / "graders" / "tcp-kv" / "kvhelpers.py").write_text(f"{planted}\n")
    done = check(tmp_path)
    assert done.returncode == 1
    assert "BROKEN" in done.stdout and "kvhelpers" in done.stdout
