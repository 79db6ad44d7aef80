"""Connections to the check's database and the learner's migration files.

Learner SQL always runs as the unprivileged role that owns the database (``postgres_learner``); the superuser
connection (``postgres``) only reads the catalog and installs grader-owned objects.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import psycopg

from labkit.checks import fail, log
from labkit.errors import CheckFailed, HarnessError
from labkit.services import PostgresEndpoint
from labkit.tools.sql import connect as connect_session
from labkit.tools.sql import read_script, run_script

MIGRATIONS = "migrations"
ONLINE = "online"
STATEMENT_TIMEOUT_S = 10.0
LOCK_TIMEOUT_S = 5.0
MIGRATIONS_DEADLINE_S = 15.0
_MIGRATION_NAME = re.compile(r"^\d+_.*\.sql$")


def connect(endpoint: PostgresEndpoint, *, application: str, lock_timeout: float | None = None) -> psycopg.Connection:
    """An autocommit session (no idle transaction may hold back CREATE INDEX CONCURRENTLY) with timeouts, so a
    statement stuck behind a lock becomes an error with a message instead of a hung check."""
    try:
        return connect_session(
            endpoint, application=application, statement_timeout=STATEMENT_TIMEOUT_S, lock_timeout=lock_timeout
        )
    except HarnessError as error:  # learner SQL can turn sessions away (ALTER DATABASE ... CONNECTION LIMIT)
        fail(error.message)


def migration_files(impl_dir: Path) -> list[Path]:
    folder = impl_dir / MIGRATIONS
    files = sorted(path for path in folder.glob("*.sql") if path.is_file()) if folder.is_dir() else []
    if not files:
        fail(
            f"no migrations found: {MIGRATIONS}/ has no .sql files",
            hint="put your DDL in files such as migrations/001_tables.sql, migrations/002_views.sql",
        )
    misnamed = [path.name for path in files if not _MIGRATION_NAME.match(path.name)]
    if misnamed:
        fail(
            f"migration files must be named NNN_description.sql so their order is obvious; got {misnamed}",
            hint="start every file name with a number, e.g. 001_tables.sql, 002_views.sql",
        )
    return files


def apply_migrations(conn: psycopg.Connection, impl_dir: Path) -> None:
    """Applies every migration in file-name order, statement by statement, as psql -v ON_ERROR_STOP=1 would."""
    files = migration_files(impl_dir)
    with deadline(conn, MIGRATIONS_DEADLINE_S, "your migrations"):
        for path in files:
            source = str(path.relative_to(impl_dir))
            run_script(conn, read_script(path, source), source)
    log("migrations applied")


@contextmanager
def deadline(conn: psycopg.Connection, seconds: float, what: str) -> Iterator[None]:
    """Cancels the statement running on ``conn`` after ``seconds``, however the session's own timeouts are set,
    so SQL that switches statement_timeout off and sleeps still ends with a verdict."""
    fired = threading.Event()

    def cancel() -> None:
        fired.set()
        conn.cancel_safe()

    timer = threading.Timer(seconds, cancel)
    timer.daemon = True
    timer.start()
    try:
        yield
    except CheckFailed as failure:
        if not fired.is_set():
            raise
        fail(
            f"{what} did not finish within {seconds:g} s, so the grader cancelled them:\n{failure.message}",
            hint="look for a statement that waits (pg_sleep, a lock, an endless loop in a DO block)",
        )
    finally:
        timer.cancel()


def online_step(impl_dir: Path, name: str) -> tuple[str, str]:
    """The text of one online-migration step and the name to show for it."""
    path = impl_dir / ONLINE / name
    source = f"{ONLINE}/{name}"
    if not path.is_file():
        fail(
            f"{source} is missing",
            hint="the online migration is three files: online/expand.sql, online/backfill.sql, online/contract.sql",
        )
    return read_script(path, source), source


def literal(value: object) -> str:
    """A value as SQL text, for showing a statement the way a learner would type it into psql."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return str(value)
    text = str(value)
    if len(text) > 40:
        text = text[:24] + "…" + text[-8:]
    return "'" + text.replace("'", "''") + "'"


def render(statement: str, params: tuple[object, ...] = ()) -> str:
    """``statement`` with its %s placeholders replaced by literals (for messages only, never executed)."""
    parts = statement.split("%s")
    if len(parts) != len(params) + 1:
        return statement
    shown = parts[0]
    for value, part in zip(params, parts[1:], strict=True):
        shown += literal(value) + part
    return shown
