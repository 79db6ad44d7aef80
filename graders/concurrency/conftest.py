"""Fixtures of this lab's stages: the grader's HTTP upstream, and the learner's client run against a job list."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence

import pytest

from jobs import Job, Knobs, Names
from runs import Run, RunClient, run_jobs
from upstream import Burst, Gate, Upstream

RunJobs = Callable[..., Run]


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream().start()
    yield server
    server.close()


@pytest.fixture
def other_upstream() -> Iterator[Upstream]:
    """A second upstream, for a run at the same time as one on ``upstream``."""
    server = Upstream().start()
    yield server
    server.close()


@pytest.fixture
def names(rng: random.Random) -> Names:
    return Names(rng)


@pytest.fixture
def client(run_client, upstream: Upstream) -> RunJobs:
    """``client(jobs, knobs, deadline=8)`` runs the learner's program on ``jobs`` and returns what happened."""
    return client_of(run_client, upstream)


@pytest.fixture
def other_client(run_client, other_upstream: Upstream) -> RunJobs:
    """``client`` on an upstream of its own: the two can run at the same time (``labkit.checks.concurrently``)."""
    return client_of(run_client, other_upstream)


def client_of(run_client: RunClient, upstream: Upstream) -> RunJobs:
    def run(
        jobs: Sequence[Job],
        knobs: Knobs,
        *,
        deadline: float = 8.0,
        env: dict[str, str] | None = None,
        gate: Gate | None = None,
        burst: Burst | None = None,
    ) -> Run:
        return run_jobs(run_client, upstream, jobs, knobs, deadline=deadline, extra_env=env, gate=gate, burst=burst)

    return run
