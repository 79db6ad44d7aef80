"""Fixtures for the query-tuning stages: the run's databases, built once, and a read-only session per check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from labkit.services import PostgresEndpoint
from tuning_db import LabDatabases, connect, lab_databases
from tuning_session import QUERY_TIMEOUT_S, TuningSession


@pytest.fixture(scope="session")
def databases(postgres_server: PostgresEndpoint, impl_dir: Path) -> Iterator[LabDatabases]:
    """The dataset (generated once per run), its oracle, and the tuned clone where the migration was applied."""
    with lab_databases(postgres_server, impl_dir) as built:
        yield built


@pytest.fixture
def tuning(databases: LabDatabases, impl_dir: Path) -> Iterator[TuningSession]:
    """The learner's queries in a fresh READ ONLY session as the learner role, and the oracle's answers."""
    learner = connect(databases.tuned, read_only=True, statement_timeout=QUERY_TIMEOUT_S)
    oracle = connect(databases.oracle, read_only=True)
    try:
        yield TuningSession(databases, impl_dir, learner, oracle)
    finally:
        for conn in (learner, oracle):
            if conn.pgconn.transaction_status == psycopg.pq.TransactionStatus.ACTIVE:
                conn.cancel_safe()  # a check that timed out must not leave its query running
            conn.close()
