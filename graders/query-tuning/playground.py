"""`labkit services up query-tuning`: the grader's million orders in a database of the learner's role, with the
learner's migration applied and the grader's session settings as the role's defaults, to read plans with EXPLAIN."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from labkit.services import PlaygroundData, PostgresEndpoint, RedisEndpoint, fresh_postgres_database, learner_role
from tuning_db import MIGRATION, SESSION_SETTINGS, analyze, apply_migration, hand_tables_to, load_dataset


@contextmanager
def playground(
    postgres: PostgresEndpoint | None, redis: RedisEndpoint | None, impl_dir: Path
) -> Iterator[PlaygroundData]:
    if postgres is None:
        raise ValueError("query-tuning's playground needs PostgreSQL")
    with fresh_postgres_database(postgres) as admin, learner_role(admin) as learner:
        load_dataset(admin)
        hand_tables_to(admin, learner.user)
        error = apply_migration(learner, impl_dir / MIGRATION)
        analyze(admin)
        _grader_settings_for(admin, learner.user)
        applied = f"{MIGRATION} applied" if error is None else f"{MIGRATION} not applied: {error.splitlines()[0]}"
        notes = (
            "customers and orders as the grader loads them (graders/query-tuning/dataset.sql), owned by your role",
            f"{applied}; DROP INDEX to start over",
            "sessions start with the grader's settings: " + ", ".join(f"{k}={v}" for k, v in SESSION_SETTINGS.items()),
        )
        yield PlaygroundData({"DATABASE_URL": learner.dsn()}, notes)


def _grader_settings_for(admin: PostgresEndpoint, role: str) -> None:
    with psycopg.connect(admin.dsn(), autocommit=True, connect_timeout=5) as conn:
        for name, value in SESSION_SETTINGS.items():
            conn.execute(
                sql.SQL("ALTER ROLE {} IN DATABASE {} SET {} = {}").format(
                    sql.Identifier(role), sql.Identifier(admin.dbname), sql.Identifier(name), sql.Literal(value)
                )
            )
