"""The README stays true: CI runs exactly its test command, and its lab table matches the catalog."""

from __future__ import annotations

import re

from labkit.catalog import load_catalog
from support import KIT

README = (KIT / "README.md").read_text(encoding="utf-8")


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = next(line for block in shell_blocks() for line in block.splitlines() if "pytest" in line)
    ci_script = (KIT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command.strip() in ci_script.splitlines()


def test_readme_grades_a_lab_without_docker() -> None:
    first_block = shell_blocks()[0]
    assert "labkit grade" in first_block
    assert "docker" not in first_block.lower()


def test_lab_table_lists_every_lab() -> None:
    for lab in load_catalog(KIT).labs:
        assert f"[{lab.id}](labs/{lab.id}/README.md)" in README
