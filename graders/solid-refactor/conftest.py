"""Fixtures for the solid-refactor stages: the pristine legacy code and a pricer that runs pricing code in driver
processes, on the learner's folder or on copies of it the grader prepares."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from frozen import LEGACY  # the pristine legacy code: never the learner's copy of it
from labkit.learners import RunInfo
from pricer import Pricer


@pytest.fixture(scope="session")
def scratch(run_info: RunInfo) -> Path:
    """The grader's folder for copies: inside the run's folder, which a sandboxed driver can read too."""
    folder = run_info.run_dir / "solid-refactor"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def legacy_folder(scratch: Path) -> Path:
    return Path(shutil.copytree(LEGACY, scratch / "legacy", ignore=shutil.ignore_patterns("__pycache__")))


@pytest.fixture
def pricer(start_driver, run_info: RunInfo, legacy_folder: Path, scratch: Path) -> Pricer:
    return Pricer(start_driver, run_info.impl_dir, legacy_folder, scratch)
