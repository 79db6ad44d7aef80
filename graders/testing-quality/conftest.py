"""Fixtures for this lab's stages: the learner's suite run, in rounds, by the learner's own process."""

from collections.abc import Callable, Sequence

import pytest

from labkit.learners import RunInfo
from suite_run import Round, SuiteRun, run_suite

SUITE_TIMEOUT_S = 300  # a backstop for a loaded machine: each test is stopped after 10 s by the runner itself

RunSuite = Callable[[Sequence[Round]], SuiteRun]


@pytest.fixture(scope="session")
def suite_runs() -> dict[tuple[Round, ...], SuiteRun]:
    """Runs already made in this grading: the same rounds give the same records (orders and randomness come
    from the run's seed), so two checks of a stage share one run."""
    return {}


@pytest.fixture
def suite(run_client, run_info: RunInfo, suite_runs: dict[tuple[Round, ...], SuiteRun]) -> RunSuite:
    """Runs the learner's suite in the given rounds, all in one learner process, and returns what it reported."""

    def run(rounds: Sequence[Round]) -> SuiteRun:
        key = tuple(rounds)
        if key not in suite_runs:
            suite_runs[key] = run_suite(run_client, run_info, rounds, SUITE_TIMEOUT_S)
        return suite_runs[key]

    return run
