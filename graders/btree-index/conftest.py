"""Fixtures for the btree-index stages: tree files in this run's scratch folder, each opened by driver processes
that hold the grader's pager."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import configuration

from labkit.learners import RunInfo
from session import Layout, TreeSession

_numbers = itertools.count(1)

NewTree = Callable[[Layout], TreeSession]


@pytest.fixture
def new_tree(start_driver, run_info: RunInfo, request: pytest.FixtureRequest) -> NewTree:
    """A factory: ``new_tree(Layout(4, 4))`` is a session over a new, empty file, not yet opened."""

    def new(layout: Layout) -> TreeSession:
        folder = run_info.run_dir / "btree-index" / f"{request.node.name}-{next(_numbers)}"
        return TreeSession(start_driver, folder, layout)

    return new


@pytest.fixture(scope="session", autouse=True)
def _hypothesis_in_scratch(run_info: RunInfo) -> None:
    """Hypothesis keeps its files in this run's scratch folder, never in the kit or the learner's folder."""
    configuration.set_hypothesis_home_dir(run_info.run_dir / "btree-index" / "hypothesis")
