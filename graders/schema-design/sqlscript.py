"""Learner SQL files, run the way ``psql -v ON_ERROR_STOP=1 -f FILE`` runs them: one statement at a time.

Running statements one by one (rather than the whole file in one call) matters for three reasons: statements
such as ``CREATE INDEX CONCURRENTLY`` refuse to run inside the implicit transaction of a multi-statement string;
a failure can name the file, the line and the statement; and a grader can observe the database between two
statements. Splitting is sans-IO (text in, statements out) and knows the lexical rules that can hide a
semicolon: quotes, dollar quotes, comments, and SQL-standard ``BEGIN ATOMIC ... END`` function bodies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import psycopg
from psycopg import pq

from labkit import context
from labkit.checks import fail

_IDENT_START = re.compile(r"[A-Za-z_\u0080-\uffff]")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$\u0080-\uffff]")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$")
_WORD = re.compile(r"[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*")
_ROUTINES = frozenset({"function", "procedure"})
SHOWN_LINES = 12


@dataclass(frozen=True)
class Statement:
    """One statement of a script: its text (no trailing semicolon) and where its code starts."""

    text: str
    offset: int
    line: int


class ScriptSyntaxError(ValueError):
    """The script cannot be split: an unterminated quote, dollar quote or comment, or a psql meta-command."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.message = message
        self.line = line


def line_at(script: str, offset: int) -> int:
    return script.count("\n", 0, offset) + 1


def split_statements(script: str) -> list[Statement]:
    """Splits ``script`` at top-level semicolons; chunks holding only whitespace and comments are dropped."""
    statements: list[Statement] = []
    start = 0
    words: list[str] = []  # the first words of the current statement, lowercased, to spot routine definitions
    begin_depth = paren_depth = 0
    at_statement_start = True
    i, n = 0, len(script)
    while i < n:
        char = script[i]
        if script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if script.startswith("/*", i):
            i = _skip_block_comment(script, i)
            continue
        if char.isspace():
            i += 1
            continue
        if char == "\\" and at_statement_start:
            raise ScriptSyntaxError(
                "psql meta-commands (lines starting with a backslash) are not supported", line_at(script, i)
            )
        at_statement_start = False
        if char == "'":
            escapes = i > 0 and script[i - 1] in "eE" and not _is_ident_char(script, i - 2)
            i = _skip_quoted(script, i, "'", backslash_escapes=escapes)
        elif char == '"':
            i = _skip_quoted(script, i, '"', backslash_escapes=False)
        elif char == "$" and not _is_ident_char(script, i - 1) and (tag := _DOLLAR_TAG.match(script, i)):
            end = script.find(tag.group(), tag.end())
            if end < 0:
                raise ScriptSyntaxError(f"dollar quote {tag.group()} is never closed", line_at(script, i))
            i = end + len(tag.group())
        elif _IDENT_START.match(char) and not _is_ident_char(script, i - 1):
            word = _WORD.match(script, i)
            assert word is not None
            lowered = word.group().lower()
            if len(words) < 4:
                words.append(lowered)
            if _defines_routine(words) and paren_depth == 0:
                if lowered == "begin" or (lowered == "case" and begin_depth > 0):
                    begin_depth += 1
                elif lowered == "end" and begin_depth > 0:
                    begin_depth -= 1
            i = word.end()
        elif char == "(":
            paren_depth += 1
            i += 1
        elif char == ")":
            paren_depth = max(0, paren_depth - 1)
            i += 1
        elif char == ";" and begin_depth == 0:
            _add(statements, script, start, i)
            start, words, paren_depth, at_statement_start = i + 1, [], 0, True
            i += 1
        else:
            i += 1
    _add(statements, script, start, n)
    return statements


def _defines_routine(words: list[str]) -> bool:
    """CREATE [OR REPLACE] FUNCTION/PROCEDURE: only there can BEGIN ... END hide semicolons (BEGIN ATOMIC)."""
    if words[:1] != ["create"]:
        return False
    if words[1:3] == ["or", "replace"]:
        return len(words) > 3 and words[3] in _ROUTINES
    return len(words) > 1 and words[1] in _ROUTINES


def _is_ident_char(script: str, index: int) -> bool:
    return index >= 0 and bool(_IDENT_CHAR.match(script[index]))


def _skip_quoted(script: str, i: int, quote: str, *, backslash_escapes: bool) -> int:
    j = i + 1
    while j < len(script):
        if backslash_escapes and script[j] == "\\":
            j += 2
            continue
        if script[j] == quote:
            if script.startswith(quote * 2, j):
                j += 2
                continue
            return j + 1
        j += 1
    what = "string literal" if quote == "'" else "quoted identifier"
    raise ScriptSyntaxError(f"{what} starting here is never closed", line_at(script, i))


def _skip_block_comment(script: str, i: int) -> int:
    depth, j = 0, i
    while j < len(script):
        if script.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif script.startswith("*/", j):
            depth, j = depth - 1, j + 2
            if depth == 0:
                return j
        else:
            j += 1
    raise ScriptSyntaxError("/* comment starting here is never closed", line_at(script, i))


def _add(statements: list[Statement], script: str, start: int, end: int) -> None:
    chunk = script[start:end]
    lead = _code_start(chunk)
    if lead < 0:
        return
    offset = start + lead
    statements.append(Statement(chunk[lead:].rstrip(), offset, line_at(script, offset)))


def _code_start(chunk: str) -> int:
    """Index of the first character that is neither whitespace nor comment, or -1 if there is none."""
    i = 0
    while i < len(chunk):
        if chunk.startswith("--", i):
            end = chunk.find("\n", i)
            i = len(chunk) if end < 0 else end + 1
        elif chunk.startswith("/*", i):
            i = _skip_block_comment(chunk, i)
        elif chunk[i].isspace():
            i += 1
        else:
            return i
    return -1


AfterEach = Callable[[Statement, "psycopg.Cursor[Any]"], None]


def run_script(
    conn: psycopg.Connection[Any],
    script: str,
    source: str,
    *,
    after_each: AfterEach | None = None,
    hint: str | None = None,
) -> list[Statement]:
    """Runs ``script`` on ``conn`` (in autocommit mode) statement by statement, stopping at the first error with a
    failed check that names ``source``, the line, the statement and PostgreSQL's message.

    As with psql, statements outside an explicit ``BEGIN ... COMMIT`` commit one by one; a script that ends with
    its transaction still open fails. ``after_each`` sees every statement that succeeded, with its cursor.
    """
    try:
        statements = split_statements(script)
    except ScriptSyntaxError as error:
        fail(
            f"{source} line {error.line}: {error.message}",
            hint="the file is run as plain SQL statements; psql commands and unclosed quotes cannot be split",
        )
    for statement in statements:
        context.log(f"{source}:{statement.line}: {first_line(statement.text)}")
        try:
            cursor = conn.execute(statement.text.encode())
        except psycopg.Error as error:
            statement_failed(script, source, statement, error, hint)
        if after_each is not None:
            after_each(statement, cursor)
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        conn.execute(b"ROLLBACK")
        fail(
            f"{source} ended inside a transaction: a BEGIN without its COMMIT (everything since was rolled back)",
            hint=hint or "end every BEGIN with COMMIT in the same file",
        )
    return statements


def statement_failed(
    script: str, source: str, statement: Statement, error: psycopg.Error, hint: str | None
) -> NoReturn:
    diag = error.diag
    line = statement.line
    position = diag.statement_position
    if position is not None and position.isdigit():
        line = line_at(script, statement.offset + int(position) - 1)
    message = f"{source} line {line}: {diag.sqlstate or '?'} {(diag.message_primary or str(error)).strip()}"
    if diag.message_detail:
        message += f"\nDETAIL: {diag.message_detail}"
    if diag.message_hint:
        message += f"\nHINT: {diag.message_hint}"
    if diag.context:
        message += f"\nCONTEXT: {diag.context.splitlines()[0]}"
    message += "\n" + quote_statement(statement, line)
    fail(message, hint=hint or "run the file yourself with `psql -v ON_ERROR_STOP=1 -f FILE` to reproduce it")


def quote_statement(statement: Statement, marked_line: int) -> str:
    """The statement with line numbers, cut to a window around ``marked_line``, which is marked with ``>``."""
    lines = statement.text.splitlines()
    index = min(max(marked_line - statement.line, 0), len(lines) - 1)
    first = max(0, min(index - SHOWN_LINES // 2, len(lines) - SHOWN_LINES))
    shown = []
    for number, text in enumerate(lines[first : first + SHOWN_LINES], start=statement.line + first):
        marker = ">" if number == statement.line + index and len(lines) > 1 else " "
        shown.append(f"  {marker}{number:4} | {text}")
    if first + SHOWN_LINES < len(lines):
        shown.append(f"        … {len(lines) - first - SHOWN_LINES} more lines")
    return "\n".join(shown)


def first_line(text: str) -> str:
    first = text.splitlines()[0]
    return first if first == text else first + " …"
