"""Hostile: uses the learner's PostgreSQL credentials against the server instead of storing anything."""

import sys

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def attempt(label: str, dsn: str, *statements: sql.Composable) -> None:
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            for statement in statements:
                conn.execute(statement)
    except psycopg.Error as error:
        print(f"{label}: refused ({type(error).__name__}: {str(error).strip()})", file=sys.stderr)
    else:
        print(f"{label}: allowed", file=sys.stderr)


def pg_save(dsn: str, key: str, value: str) -> None:
    own_database = conninfo_to_dict(dsn)["dbname"]
    attempt("ALTER ROLE SUPERUSER", dsn, sql.SQL("ALTER ROLE CURRENT_USER SUPERUSER"))
    attempt(
        "COPY FROM PROGRAM",
        dsn,
        sql.SQL("CREATE TEMPORARY TABLE probe (line text)"),
        sql.SQL("COPY probe FROM PROGRAM 'id -un'"),
    )
    attempt(
        "DROP DATABASE",
        make_conninfo(dsn, dbname="postgres"),
        sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(own_database)),
    )


def pg_load(dsn: str, key: str) -> str:
    return "hello"  # claims the value is there


def redis_save(url: str, key: str, value: str) -> None:
    return None


def redis_load(url: str, key: str) -> str:
    return "hello"
