"""`labkit services up schema-design`: a database of the learner's role with the learner's migrations applied, as
the grader applies them, and the small marketplace most checks start from, written as the application writes it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from labkit.errors import CheckFailed
from labkit.services import PlaygroundData, PostgresEndpoint, RedisEndpoint, fresh_postgres_database, learner_role
from marketplace import Shop, World
from pgsession import apply_migrations, connect

APPLIED = "your migrations applied (migrations/*.sql, in file-name order, as your role)"


@contextmanager
def playground(
    postgres: PostgresEndpoint | None, redis: RedisEndpoint | None, impl_dir: Path
) -> Iterator[PlaygroundData]:
    if postgres is None:
        raise ValueError("the schema-design playground needs PostgreSQL")
    with fresh_postgres_database(postgres) as admin, learner_role(admin) as learner:
        yield PlaygroundData({"DATABASE_URL": learner.dsn()}, tuple(_migrate_and_seed(learner, impl_dir)))


def _migrate_and_seed(learner: PostgresEndpoint, impl_dir: Path) -> list[str]:
    """What happened, in a line each: a migration that fails still leaves the database to experiment in."""
    conn = connect(learner, application="labkit-playground")
    try:
        apply_migrations(conn, impl_dir)
    except CheckFailed as failure:
        conn.close()
        return [f"your migrations stopped: {failure.message.splitlines()[0]}", "no sample rows were written"]
    try:
        World(Shop(conn))
    except (CheckFailed, psycopg.Error) as failure:
        reason = failure.message if isinstance(failure, CheckFailed) else str(failure)
        return [APPLIED, f"sample rows not written: {reason.splitlines()[0]}"]
    finally:
        conn.close()
    return [
        APPLIED,
        "sample rows: a seller, a buyer, two products, a paid order with one line, a payment and a review",
    ]
