"""`labkit services up transactions`: the documented schema, owned by the learner's role, with the grader's
instruments and a few rows of each kind the checks insert, to call the learner's module against by hand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bankdb import BankDatabase
from labkit.services import PlaygroundData, PostgresEndpoint, RedisEndpoint, fresh_postgres_database, learner_role

ACCOUNTS = {1: 10_000, 2: 10_000, 3: 500}  # cents
SEATS = ("A1", "A2", "B1")


@contextmanager
def playground(
    postgres: PostgresEndpoint | None, redis: RedisEndpoint | None, impl_dir: Path
) -> Iterator[PlaygroundData]:
    if postgres is None:
        raise ValueError("the transactions playground needs PostgreSQL")
    with fresh_postgres_database(postgres) as admin, learner_role(admin) as learner:
        database = BankDatabase.create(admin, learner)
        try:
            database.open_accounts(ACCOUNTS)
            database.add_seats(1, SEATS)
            database.staff_shift(1, on_call=[1, 2])
            notes = (
                "the README's tables, owned by your role, with the grader's triggers (see 'The grader's instruments')",
                f"accounts {', '.join(f'{k} ({v} cents)' for k, v in ACCOUNTS.items())}; event 1 with seats "
                f"{', '.join(SEATS)}; shift 1 with doctors 1 and 2 on call",
                "your migrate() has not run: call it with DATABASE_URL set, as in 'Trying it by hand'",
            )
            yield PlaygroundData({"DATABASE_URL": learner.dsn()}, notes)
        finally:
            database.close()
