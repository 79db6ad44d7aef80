"""SQL files a learner writes, run against PostgreSQL the way ``psql -v ON_ERROR_STOP=1 -f FILE`` runs them.

Statements run one at a time rather than as one multi-statement string: ``CREATE INDEX CONCURRENTLY`` refuses
the implicit transaction of such a string, a grader can look at the database between two statements, and a
failure can be pinned to its place in the file. Every failure reads the same in every lab, like a compiler's:

    migrations/001_tables.sql, line 21, column 41: ERROR 42601: syntax error at or near "CHEK"
       16 | CREATE TABLE products (
        … |
       19 |     sku         text NOT NULL UNIQUE,
       20 |     title       text NOT NULL,
       21 |     price       numeric(12, 2) NOT NULL CHEK (price >= 0),
          |                                         ^

Splitting is sans-IO (``split_statements``); ``describe_error`` maps PostgreSQL's error position back onto the
file; ``connect`` opens the sessions learner SQL runs in, with the timeouts that turn a hang into a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq

from labkit import context
from labkit.checks import fail
from labkit.errors import HarnessError
from labkit.services import PostgresEndpoint
from labkit.tools._sqlsplit import SplitError, Statement, first_line, position, split_statements

__all__ = [
    "SplitError",
    "Statement",
    "connect",
    "describe_error",
    "describe_split_error",
    "excerpt",
    "first_line",
    "position",
    "read_script",
    "run_script",
    "split_script",
    "split_statements",
]

LINES_BEFORE = 2  # lines of the statement shown above the one with the caret
DEFAULT_HINT = "run the file yourself with `psql -v ON_ERROR_STOP=1 -f FILE` to reproduce it"

_CLIENT_STREAM = re.compile(r"\b(?:stdin|stdout)\b", re.IGNORECASE)

AfterEach = Callable[[Statement, "psycopg.Cursor[Any]"], None]


def read_script(path: Path, file: str) -> str:
    """The text of the learner's file ``path``, shown as ``file``; a file that is not UTF-8 fails the check."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        fail(f"{file} is not UTF-8 text (the first invalid byte is on line {line})", hint="save the file as UTF-8")


def split_script(script: str, file: str) -> list[Statement]:
    """``split_statements``, failing the check with the construct's place in ``file`` if the script cannot split."""
    try:
        return split_statements(script)
    except SplitError as error:
        fail(describe_split_error(error, file=file, script=script), hint=error.hint)


def describe_split_error(error: SplitError, *, file: str, script: str) -> str:
    line, column = position(script, error.offset)
    return f"{file}, line {line}, column {column}: {error.reason}\n{excerpt(script, error.offset)}"


def describe_error(
    error: psycopg.Error, *, file: str, script: str, statement: Statement, sent_prefix: int | None = 0
) -> str:
    """What PostgreSQL said about ``statement`` of ``script`` and where in ``file``, for a learner to act on.

    ``sent_prefix`` is how many characters were sent before the statement's text (``PREPARE q AS `` say), so
    that PostgreSQL's position maps back onto the file; None when the failing command was not the statement's
    text (an EXECUTE of it), whose positions point elsewhere. Without a position the caret marks the statement.
    """
    diag = error.diag
    primary = (diag.message_primary or str(error)).strip()
    state = f"ERROR {diag.sqlstate}" if diag.sqlstate else "ERROR"
    offset = _error_offset(error, statement, sent_prefix)
    if offset is None:
        where = f"statement at line {statement.line}, column {statement.column}"
        lines = [f"{file}, {where}: {state}: {primary}", excerpt(script, statement.offset)]
    else:
        line, column = position(script, offset)
        lines = [f"{file}, line {line}, column {column}: {state}: {primary}", excerpt(script, offset, statement)]
    context_lines = (diag.context or "").strip().splitlines()
    for label, text in (("DETAIL", diag.message_detail), ("HINT", diag.message_hint)):
        if text:
            lines.append(f"{label}: {text.strip()}")
    if context_lines:
        lines.append(f"CONTEXT: {context_lines[0]}")
    return "\n".join(lines)


def _error_offset(error: psycopg.Error, statement: Statement, sent_prefix: int | None) -> int | None:
    """The offset in the script of the character PostgreSQL's error points at, if it points into ``statement``.

    An error inside a function body or DO block carries the inner query and a position in it (internal
    position); the inner query is a piece of the statement's text, so it maps back too when it occurs once.
    """
    if sent_prefix is None:
        return None
    diag, text = error.diag, statement.text
    if diag.statement_position and diag.statement_position.isdigit():
        index = int(diag.statement_position) - 1 - sent_prefix
        return statement.offset + index if 0 <= index <= len(text) else None
    inner, inner_position = diag.internal_query, diag.internal_position
    if inner and inner_position and inner_position.isdigit():
        found = text.find(inner)
        if found >= 0 and text.find(inner, found + 1) < 0 and int(inner_position) <= len(inner) + 1:
            return statement.offset + found + int(inner_position) - 1
    return None


def excerpt(script: str, offset: int, statement: Statement | None = None) -> str:
    """The line holding ``offset`` with a caret under it, gutter-numbered, after up to LINES_BEFORE lines of
    ``statement`` and its first line, so a learner sees which statement the caret is in."""
    lines = script.split("\n")
    line, column = position(script, offset)
    first = line if statement is None else min(statement.line, line)
    shown_from = max(first, line - LINES_BEFORE)
    out = []
    if first < shown_from:
        out.append(_numbered(first, lines[first - 1]))
        if first + 1 < shown_from:
            out.append(f"{'…':>5} |")
    out.extend(_numbered(number, lines[number - 1]) for number in range(shown_from, line + 1))
    indent = "".join("\t" if char == "\t" else " " for char in lines[line - 1][: column - 1])
    out.append(f"{'':5} | {indent}^")
    return "\n".join(out)


def _numbered(number: int, text: str) -> str:
    return f"{number:>5} | {text.rstrip()}"


def run_script(
    conn: psycopg.Connection[Any],
    script: str,
    file: str,
    *,
    after_each: AfterEach | None = None,
    hint: str | None = None,
) -> list[Statement]:
    """Runs ``script`` on ``conn`` statement by statement, failing the check at the first error with where in
    ``file`` it happened and what PostgreSQL said. ``after_each`` sees every statement that succeeded.

    On an autocommit connection each statement outside an explicit ``BEGIN ... COMMIT`` commits on its own, as
    with psql, and a script that leaves its transaction open fails. Otherwise the caller owns the transaction.
    """
    statements = split_script(script, file)
    for statement in statements:
        context.log(f"{file}:{statement.line}: {statement.first_line}")
        if statement.first_word == "COPY" and _CLIENT_STREAM.search(statement.text):
            fail(
                f"{file}, line {statement.line}, column {statement.column}: COPY to or from the client (STDIN, "
                f"STDOUT) is not supported: the data would have to come from psql\n{excerpt(script, statement.offset)}",
                hint="insert rows with INSERT ... VALUES or INSERT ... SELECT",
            )
        try:
            cursor = conn.execute(statement.text.encode())
        except psycopg.Error as error:
            fail(describe_error(error, file=file, script=script, statement=statement), hint=hint or DEFAULT_HINT)
        if after_each is not None:
            after_each(statement, cursor)
    if conn.autocommit and conn.info.transaction_status != pq.TransactionStatus.IDLE:
        conn.execute(b"ROLLBACK")
        fail(
            f"{file} ended inside a transaction: a BEGIN without its COMMIT (everything since was rolled back)",
            hint=hint or "end every BEGIN with COMMIT in the same file",
        )
    return statements


def connect(
    endpoint: PostgresEndpoint,
    *,
    application: str,
    statement_timeout: float | None = None,
    lock_timeout: float | None = None,
    autocommit: bool = True,
    read_only: bool = False,
    settings: Mapping[str, str] | None = None,
) -> psycopg.Connection[tuple[Any, ...]]:
    """A session on ``endpoint`` named ``application`` (in pg_stat_activity), with its timeouts (seconds) and
    ``settings`` in force from the start: they are the session's defaults, which RESET restores.

    A timeout turns a statement stuck behind a lock into an error with a message instead of a hung check. A
    server that refuses the grader is the harness's problem (HarnessError); a lab whose learner SQL can lock
    sessions out catches that and fails the check instead.
    """
    options = dict(settings or {})
    if statement_timeout is not None:
        options["statement_timeout"] = f"{round(statement_timeout * 1000)}ms"
    if lock_timeout is not None:
        options["lock_timeout"] = f"{round(lock_timeout * 1000)}ms"
    if read_only:  # psycopg's read_only covers the transactions it opens; this covers autocommit sessions too
        options["default_transaction_read_only"] = "on"
    try:
        conn = psycopg.connect(
            endpoint.dsn(),
            autocommit=autocommit,
            connect_timeout=10,
            application_name=application,
            options=" ".join(f"-c {name}={_escape_option(value)}" for name, value in options.items()),
        )
    except psycopg.OperationalError as error:
        raise HarnessError(
            f"cannot connect to database {endpoint.dbname} as {endpoint.user}: {str(error).strip()}"
        ) from error
    conn.read_only = read_only or None
    return conn


def _escape_option(value: str) -> str:
    """libpq splits ``options`` at spaces; a backslash keeps a space (or a backslash) inside one value."""
    return value.replace("\\", "\\\\").replace(" ", "\\ ")
