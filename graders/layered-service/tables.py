"""The README's tables as the grader reads them, with its own (superuser) connection to the check's database."""

from __future__ import annotations

from typing import Any

import psycopg

from labkit.checks import fail
from labkit.services import PostgresEndpoint

SCHEMA_HINT = "create_schema() creates the README's tables products, orders and order_lines, with those columns"


def query(database: PostgresEndpoint, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    try:
        with psycopg.connect(database.dsn(), connect_timeout=10, autocommit=True) as conn:
            return conn.execute(statement.encode(), params).fetchall()
    except psycopg.errors.UndefinedTable as error:
        fail(f"a table of the README is missing: {error}", hint=SCHEMA_HINT)
    except psycopg.errors.UndefinedColumn as error:
        fail(f"a column of the README is missing: {error}", hint=SCHEMA_HINT)


def count_rows(database: PostgresEndpoint, table: str) -> int:
    rows = query(database, f"SELECT count(*) FROM {table}")  # table: one of the README's names, never input
    count: int = rows[0][0]
    return count
