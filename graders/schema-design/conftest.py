"""Fixtures for the schema-design stages: every check starts from a fresh database with the migrations applied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from labkit.services import PostgresEndpoint
from marketplace import Shop, World
from pgsession import apply_migrations, connect


@pytest.fixture
def admin(postgres: PostgresEndpoint) -> Iterator[psycopg.Connection]:
    """Superuser session on the check's database, for catalog inspection only."""
    conn = connect(postgres, application="labkit-catalog")
    yield conn
    conn.close()


@pytest.fixture
def app_conn(postgres_learner: PostgresEndpoint) -> Iterator[psycopg.Connection]:
    """A session as the unprivileged application role, which owns the database; nothing applied yet."""
    conn = connect(postgres_learner, application="labkit-app")
    yield conn
    conn.close()


@pytest.fixture
def app(app_conn: psycopg.Connection, impl_dir: Path) -> psycopg.Connection:
    """The application session after the learner's migrations ran in it."""
    apply_migrations(app_conn, impl_dir)
    return app_conn


@pytest.fixture
def shop(app: psycopg.Connection) -> Shop:
    return Shop(app)


@pytest.fixture
def world(shop: Shop) -> World:
    return World(shop)
