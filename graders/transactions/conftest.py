"""Fixtures for the transactions stages: one database and one set of driver processes per run, reset per check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bankcheck import Bank
from bankdb import BankDatabase
from labkit.pool import DriverPool, driver_pool_fixture
from labkit.services import PostgresEndpoint, fresh_postgres_database, learner_role

MIGRATE_TIMEOUT_S = 10.0
POOL_SIZE = 8


@pytest.fixture(scope="session")
def bank_database(postgres_server: PostgresEndpoint) -> Iterator[BankDatabase]:
    """The documented schema in a fresh database, owned by an unprivileged role for the learner's code."""
    with fresh_postgres_database(postgres_server) as admin, learner_role(admin) as learner:
        database = BankDatabase.create(admin, learner)
        try:
            yield database
        finally:
            database.close()


# The learner's module in driver processes that see only the learner role's DATABASE_URL.
worker_pool = driver_pool_fixture(
    size=POOL_SIZE, env=lambda bank_database: {"DATABASE_URL": bank_database.learner.dsn()}
)


@pytest.fixture
def bank(bank_database: BankDatabase, worker_pool: DriverPool) -> Iterator[Bank]:
    """Empty tables, every driver ready, and no connection of the learner's left over from an earlier check;
    afterwards, no transaction of the learner's may still be open."""
    if any(state != "idle" for _, state in bank_database.learner_sessions()):
        bank_database.end_learner_sessions()
        for index in range(worker_pool.size):  # their connections are gone: start them afresh
            worker_pool.kill(index)
    drivers = worker_pool.ready()
    if not bank_database.migrated:
        drivers[0].call("migrate", timeout=MIGRATE_TIMEOUT_S)
        bank_database.migrated = True
    bank_database.reset()
    bank = Bank(bank_database, worker_pool)
    yield bank
    bank.expect_no_open_transactions(after="the calls of this check returned")
