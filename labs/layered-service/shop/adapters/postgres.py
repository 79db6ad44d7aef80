"""The unit of work and repositories on PostgreSQL (README, "The adapter"). The only place for psycopg and SQL."""

from __future__ import annotations

from typing import Self

import psycopg  # noqa: F401  (the driver you will use here)


def create_schema(database_url: str) -> None:
    # TODO: CREATE TABLE IF NOT EXISTS products, orders and order_lines, exactly as the README gives them.
    pass


class PostgresUnitOfWork:
    """One connection and one transaction per ``with`` block; ``products`` and ``orders`` are its repositories."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def __enter__(self) -> Self:
        raise NotImplementedError("PostgresUnitOfWork.__enter__")

    def __exit__(self, *exc_info: object) -> None:
        raise NotImplementedError("PostgresUnitOfWork.__exit__")

    def commit(self) -> None:
        raise NotImplementedError("PostgresUnitOfWork.commit")

    def rollback(self) -> None:
        raise NotImplementedError("PostgresUnitOfWork.rollback")
