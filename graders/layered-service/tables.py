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


def schema_columns(database: PostgresEndpoint) -> dict[str, dict[str, str]]:
    """Each table's columns in schema public as the README writes them: ``{"products": {"name": "text NOT NULL"}}``."""
    rows = query(
        database,
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'public'",
    )
    found: dict[str, dict[str, str]] = {}
    for table, column, data_type, nullable in rows:
        found.setdefault(table, {})[column] = data_type + ("" if nullable == "YES" else " NOT NULL")
    return found


def schema_keys(database: PostgresEndpoint) -> dict[str, set[str]]:
    """Each table's primary key and foreign keys in schema public, as ``PRIMARY KEY (a, b)`` (columns sorted: their
    order in the index is the implementation's) and ``FOREIGN KEY (a) REFERENCES other``."""
    rows = query(
        database,
        """SELECT t.relname, c.contype, r.relname,
                  (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
                    WHERE a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey))
             FROM pg_constraint c
             JOIN pg_class t ON t.oid = c.conrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace
             LEFT JOIN pg_class r ON r.oid = c.confrelid
            WHERE n.nspname = 'public' AND c.contype IN ('p', 'f')""",
    )
    found: dict[str, set[str]] = {}
    for table, kind, referenced, key_columns in rows:
        listed = ", ".join(key_columns)
        found.setdefault(table, set()).add(
            f"PRIMARY KEY ({listed})" if kind == "p" else f"FOREIGN KEY ({listed}) REFERENCES {referenced}"
        )
    return found
