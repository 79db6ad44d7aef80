"""Fixtures for this lab's stages: the learner's suite run, in rounds, by the learner's own process."""

from collections.abc import Callable, Sequence

import pytest

from labkit.learners import RunInfo
from suite_run import Round, SuiteRun, run_suite

SUITE_TIMEOUT_S = 120  # a backstop: each test is stopped after 10 s by the runner itself

RunSuite = Callable[[Sequence[Round]], SuiteRun]


@pytest.fixture
def suite(run_client, run_info: RunInfo) -> RunSuite:
    """Runs the learner's suite in the given rounds, all in one learner process, and returns what it reported."""

    def run(rounds: Sequence[Round]) -> SuiteRun:
        return run_suite(run_client, run_info, rounds, SUITE_TIMEOUT_S)

    return run
