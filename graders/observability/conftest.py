"""Fixtures for the observability stages: the grader's collector and downstream, and the learner's service wired
to them through the standard OpenTelemetry variables."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from collector import Collector
from downstream import Downstream
from labkit.learners import LearnerProcess, RunInfo, learner_fixture
from logs import StdoutLog
from shopclient import Shop
from telemetry_env import telemetry_env


@pytest.fixture(scope="session")
def collector() -> Iterator[Collector]:
    receiver = Collector()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def downstream() -> Iterator[Downstream]:
    payments = Downstream()
    yield payments
    payments.close()


@pytest.fixture(scope="session")
def service_name(run_info: RunInfo) -> str:
    return f"shop-{random.Random(run_info.seed).getrandbits(16):04x}"


# One service for every stage but shutdown, replaced if a check left it dead.
service = learner_fixture(
    scope="session",
    env=lambda collector, downstream, service_name: telemetry_env(collector, downstream, service_name),
)


@pytest.fixture
def shop(service: LearnerProcess) -> Shop:
    return Shop(service.port or 0)


@pytest.fixture
def stdout(service: LearnerProcess) -> StdoutLog:
    """The service's stdout from the start of the check on."""
    return StdoutLog(service)
