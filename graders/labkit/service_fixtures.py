"""Service fixtures: one PostgreSQL / Redis server per run (started only if a check asks), a fresh database or
logical Redis db per check. A provider that cannot start is a harness error, never the learner's zero.

The service modules (and the Docker, PostgreSQL and Redis clients they load) are imported when a check first asks
for a service: every grader loads this plugin, and a lab without services would pay a good part of its start-up
for them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from labkit.plugin import GradingState

if TYPE_CHECKING:
    from labkit.services import PostgresEndpoint, RedisEndpoint, ServiceProvider


@pytest.fixture(scope="session")
def services(grading: GradingState) -> Iterator[ServiceProvider]:
    from labkit.services import resolve_provider

    config = grading.config
    provider = resolve_provider(config.choices.services, config.run_id, config.run_dir / "services")
    grading.provider = f"{provider.name} ({provider.selected_because})"
    grading.provider_details = provider.selection_details
    try:
        yield provider
    finally:
        provider.close()


@pytest.fixture(scope="session")
def postgres_server(services: ServiceProvider) -> PostgresEndpoint:
    return services.start_postgres()


@pytest.fixture
def postgres(postgres_server: PostgresEndpoint) -> Iterator[PostgresEndpoint]:
    """A new, empty database for this check; ``postgres.dsn()`` connects to it. Dropped afterwards."""
    from labkit.services import fresh_postgres_database

    with fresh_postgres_database(postgres_server) as database:
        yield database


@pytest.fixture
def postgres_learner(postgres: PostgresEndpoint) -> Iterator[PostgresEndpoint]:
    """The same fresh database as ``postgres``, reached as an unprivileged role that owns its public schema (not the
    database, which it could drop): hand this DSN to
    learner code and run learner SQL with it; keep ``postgres`` (superuser) for the grader's own inspection."""
    from labkit.services import learner_role

    with learner_role(postgres) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def redis_server(services: ServiceProvider) -> RedisEndpoint:
    from labkit.services import protect_redis_default_user

    server = services.start_redis()
    # A server of our own (embedded, docker) gets a password so that learner code, which connects as a restricted
    # user, cannot fall back to the unrestricted default user. An external server is configured by its owner.
    return server if services.name == "external" else protect_redis_default_user(server)


@pytest.fixture(scope="session")
def _redis_db_numbers() -> Iterator[int]:
    from labkit.services import REDIS_DEFAULT_DATABASES

    return itertools.cycle(range(REDIS_DEFAULT_DATABASES))


@pytest.fixture
def redis_url(redis_server: RedisEndpoint, _redis_db_numbers: Iterator[int]) -> str:
    """The URL of a flushed logical Redis database for this check (checks run one at a time), as the
    unrestricted default user: for the grader's own setup and inspection."""
    from labkit.services import fresh_redis_db

    return fresh_redis_db(redis_server, next(_redis_db_numbers))


@pytest.fixture
def redis_learner_url(redis_server: RedisEndpoint, redis_url: str) -> str:
    """The same logical database as ``redis_url``, as a restricted user (no FLUSHALL, CONFIG, SHUTDOWN, ...):
    give this one to learner code."""
    from labkit.services import learner_redis_url

    return learner_redis_url(redis_server, int(redis_url.rsplit("/", 1)[1]))
