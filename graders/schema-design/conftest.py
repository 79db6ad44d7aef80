"""Fixtures for the schema-design stages: every check starts from a fresh database with the migrations applied."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from marketplace import Shop, World
from pgsession import apply_migrations, connect


@pytest.fixture
def admin(postgres) -> Iterator[psycopg.Connection]:
    """Superuser session on the check's database, for catalog inspection only."""
    conn = connect(postgres, application="labkit-catalog")
    yield conn
    conn.close()


@pytest.fixture
def app_conn(postgres_learner) -> Iterator[psycopg.Connection]:
    """A session as the unprivileged application role, which owns the database; nothing applied yet."""
    conn = connect(postgres_learner, application="labkit-app")
    yield conn
    conn.close()


@pytest.fixture
def app(app_conn, impl_dir) -> psycopg.Connection:
    """The application session after the learner's migrations ran in it."""
    apply_migrations(app_conn, impl_dir)
    return app_conn


@pytest.fixture
def shop(app) -> Shop:
    return Shop(app)


@pytest.fixture
def world(shop) -> World:
    return World(shop)
