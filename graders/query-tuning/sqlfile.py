"""SQL files as a learner writes them: split into statements that know their line, and PostgreSQL errors located
in the file, so a failing migration reads like a compiler error (file, line, column, SQLSTATE, a caret).

The splitter follows PostgreSQL's lexer only as far as statement boundaries need: semicolons inside quoted text
('...', E'...', "...", $tag$...$tag$) and comments (-- and nested /* */) do not end a statement. It does not
understand ``BEGIN ATOMIC ... END`` function bodies; write such bodies with dollar quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$")
_IDENTIFIER_CHAR = re.compile(r"[A-Za-z0-9_$\u0080-\uffff]")
_LEADING_WORDS = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Statement:
    """One statement of a script, without its terminating semicolon; ``offset`` is where its first token is."""

    text: str
    offset: int
    line: int

    @property
    def first_word(self) -> str:
        """The statement's keyword in upper case (``CREATE``, ``COMMIT``...), or "" if it starts otherwise."""
        match = _LEADING_WORDS.match(self.text)
        return match.group(0).upper() if match else ""


class UnterminatedText(ValueError):
    """A quote, dollar quote or block comment that never closes; ``offset`` is where it opened."""

    def __init__(self, what: str, offset: int) -> None:
        super().__init__(f"unterminated {what}")
        self.what = what
        self.offset = offset


def split_statements(script: str) -> list[Statement]:
    """The statements of ``script`` in order; stretches holding only whitespace and comments are dropped."""
    statements: list[Statement] = []
    start: int | None = None  # offset of the current statement's first token
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
        if char == ";":
            if start is not None:
                statements.append(_statement(script, start, i))
                start = None
            i += 1
            continue
        if start is None:
            start = i
        i = _skip_token(script, i)
    if start is not None:
        statements.append(_statement(script, start, n))
    return statements


def _statement(script: str, start: int, end: int) -> Statement:
    return Statement(script[start:end].rstrip(), start, script.count("\n", 0, start) + 1)


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
    raise UnterminatedText("/* comment", i)


def _skip_token(script: str, i: int) -> int:
    """Index just past the token at ``i``: a quoted string or identifier, a dollar-quoted body, or one character."""
    char = script[i]
    previous = script[i - 1] if i else ""
    after_identifier = bool(previous) and _IDENTIFIER_CHAR.match(previous) is not None
    if char in "eE" and script.startswith("'", i + 1) and not after_identifier:
        return _skip_quoted(script, i + 1, "'", backslash_escapes=True)
    if char == "'":
        return _skip_quoted(script, i, "'", backslash_escapes=False)
    if char == '"':
        return _skip_quoted(script, i, '"', backslash_escapes=False)
    if char == "$" and not after_identifier:
        match = _DOLLAR_TAG.match(script, i)
        if match:
            end = script.find(match.group(0), match.end())
            if end < 0:
                raise UnterminatedText(f"dollar-quoted text {match.group(0)}", i)
            return end + len(match.group(0))
    return i + 1


def _skip_quoted(script: str, i: int, quote: str, *, backslash_escapes: bool) -> int:
    j = i + 1
    while j < len(script):
        if backslash_escapes and script[j] == "\\":
            j += 2
            continue
        if script[j] == quote:
            if script.startswith(quote, j + 1):  # a doubled quote stands for itself
                j += 2
                continue
            return j + 1
        j += 1
    raise UnterminatedText("quoted identifier" if quote == '"' else "string", i)


def line_and_column(script: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character ``offset`` in ``script``."""
    offset = max(0, min(offset, len(script)))
    line = script.count("\n", 0, offset) + 1
    column = offset - (script.rfind("\n", 0, offset) + 1) + 1
    return line, column


def excerpt(script: str, offset: int) -> str:
    """The line holding ``offset`` with a caret under it, gutter-numbered like a compiler's message."""
    line, column = line_and_column(script, offset)
    text = script.splitlines()[line - 1] if script.splitlines() else ""
    gutter = f"{line:>5} | "
    return f"{gutter}{text.rstrip()}\n{' ' * (len(gutter) - 2)}| {' ' * (column - 1)}^"


def describe_error(
    error: psycopg.Error, *, file: str, script: str, statement: Statement, sent_prefix: int | None = 0
) -> str:
    """Where in ``file`` a statement failed and what PostgreSQL said, for a learner to act on.

    ``sent_prefix`` is how many characters the grader put before the statement's text when sending it (for
    example ``PREPARE q AS ``), so PostgreSQL's error position maps back onto the file; None when the failing
    command was not the statement's text (an EXECUTE of it), whose error positions point elsewhere.
    """
    diag = error.diag
    sqlstate = diag.sqlstate or "?????"
    primary = diag.message_primary or str(error).strip()
    position = None
    if diag.statement_position and sent_prefix is not None:
        position = int(diag.statement_position) - 1 - sent_prefix
    if position is not None and 0 <= position <= len(statement.text):
        offset = statement.offset + position
        line, column = line_and_column(script, offset)
        lines = [f"{file}, line {line}, column {column}: ERROR {sqlstate}: {primary}", excerpt(script, offset)]
    else:
        lines = [
            f"{file}, statement starting at line {statement.line}: ERROR {sqlstate}: {primary}",
            excerpt(script, statement.offset),
        ]
    if diag.message_detail:
        lines.append(f"DETAIL: {diag.message_detail}")
    if diag.message_hint:
        lines.append(f"HINT: {diag.message_hint}")
    return "\n".join(lines)
