"""Fixtures for the transactions stages: one database and one set of driver processes per run, reset per check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bankcheck import Bank
from bankdb import BankDatabase
from labkit.services import PostgresEndpoint, fresh_postgres_database, learner_role
from workers import WorkerPool

MIGRATE_TIMEOUT_S = 10.0


@pytest.fixture(scope="session")
def bank_database(postgres_server: PostgresEndpoint) -> Iterator[BankDatabase]:
    """The documented schema in a fresh database, owned by an unprivileged role for the learner's code."""
    with fresh_postgres_database(postgres_server) as admin, learner_role(admin) as learner:
        database = BankDatabase.create(admin, learner)
        try:
            yield database
        finally:
            database.close()


@pytest.fixture(scope="session")
def worker_pool(grading, bank_database: BankDatabase) -> Iterator[WorkerPool]:
    """The learner's module in driver processes that see only the learner role's DATABASE_URL."""
    pool = WorkerPool(grading, {"DATABASE_URL": bank_database.learner.dsn()})
    yield pool
    pool.close()


@pytest.fixture
def bank(bank_database: BankDatabase, worker_pool: WorkerPool) -> Iterator[Bank]:
    """Empty tables, every driver ready, and no connection of the learner's left over from an earlier check;
    afterwards, no transaction of the learner's may still be open."""
    if any(state != "idle" for _, state in bank_database.learner_sessions()):
        bank_database.end_learner_sessions()
        worker_pool.replace_all()
    drivers = worker_pool.ready()
    if not worker_pool.migrated:
        drivers[0].call("migrate", timeout=MIGRATE_TIMEOUT_S)
        worker_pool.migrated = True
    bank_database.reset()
    bank = Bank(bank_database, worker_pool)
    yield bank
    bank.expect_no_open_transactions(after="the calls of this check returned")
