"""Fixtures for this lab's stages: the learner's packaging files, read from their implementation folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerfile import Instruction, parse, stages
from labkit.checks import fail
from submission import Submission


@pytest.fixture
def submission(impl_dir: Path) -> Submission:
    return Submission(impl_dir)


@pytest.fixture
def dockerfile(submission: Submission) -> list[Instruction]:
    """The Dockerfile's instructions; one without a FROM fails the check."""
    instructions = parse(submission.text("Dockerfile"))
    if not stages(instructions):
        fail(
            "Dockerfile has no FROM instruction",
            hint="start from the base image: ARG BASE_IMAGE=... then FROM ${BASE_IMAGE}",
        )
    return instructions


@pytest.fixture
def final_stage(dockerfile: list[Instruction]) -> list[Instruction]:
    """The instructions of the stage that becomes the image: the last one."""
    return stages(dockerfile)[-1]
