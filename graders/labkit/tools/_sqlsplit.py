"""Statement boundaries of a SQL script, sans-IO: text in, statements out, no database involved.

The scanner knows PostgreSQL's lexical rules only as far as they can hide a semicolon: quoted strings ('...'
with '' escapes, E'...' with backslash escapes), quoted identifiers, dollar quotes ($$...$$, $tag$...$tag$),
comments (-- and nested /* */) and the ``BEGIN ATOMIC ... END`` bodies of SQL-standard functions, whose inner
statements end with semicolons too. A backslash outside all of these starts a psql meta-command, which a script
run as plain SQL cannot obey: it is refused by name rather than sent to the server as a syntax error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_$\u0080-\U0010ffff]*")
_DOLLAR_QUOTE = re.compile(r"\$(?:[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*)?\$")
_META_COMMAND = re.compile(r"\\(?:\\|[^\s\\]*)")
_ROUTINES = frozenset({"function", "procedure"})


def position(script: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character ``offset`` of ``script`` (the end of the script is a position too)."""
    offset = max(0, min(offset, len(script)))
    line_start = script.rfind("\n", 0, offset) + 1
    return script.count("\n", 0, offset) + 1, offset - line_start + 1


def first_line(text: str) -> str:
    """The first line of ``text``, with an ellipsis when more follows: a statement named in one line."""
    lines = text.splitlines() or [""]
    return lines[0] if len(lines) == 1 else lines[0] + " …"


@dataclass(frozen=True)
class Statement:
    """One statement: its text from the first token to the last (no semicolon, no trailing comment), and where
    that text starts in the script, as an offset and as a 1-based line and column."""

    text: str
    offset: int
    line: int
    column: int

    @property
    def first_word(self) -> str:
        """The leading keyword in upper case (``CREATE``, ``BEGIN``...), or "" if the statement starts otherwise."""
        word = _WORD.match(self.text)
        return word.group().upper() if word else ""

    @property
    def first_line(self) -> str:
        return first_line(self.text)


class SplitError(ValueError):
    """The script cannot be cut into statements; ``offset`` is where the offending construct begins."""

    def __init__(self, reason: str, offset: int, *, hint: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset
        self.hint = hint


def split_statements(script: str) -> list[Statement]:
    """The statements of ``script`` in order; stretches of only whitespace, comments and semicolons yield none."""
    return _Splitter(script).run()


class _Splitter:
    def __init__(self, script: str) -> None:
        self.script = script
        self.statements: list[Statement] = []
        self._new_statement()

    def _new_statement(self) -> None:
        self.start: int | None = None  # offset of the statement's first token
        self.end = 0  # offset just past its last token so far
        self.words: list[str] = []  # its first few unquoted words, lower case, to recognise a routine definition
        self.parens = 0
        self.atomic_depth = 0  # open BEGIN ATOMIC bodies and the CASE expressions inside them

    def run(self) -> list[Statement]:
        script = self.script
        i = _skip_blanks(script, 0)
        while i < len(script):
            if script[i] == ";" and self.atomic_depth == 0:
                self._emit()
                i += 1
            elif script[i] == "\\":
                raise _meta_command(script, i)
            else:
                if self.start is None:
                    self.start = i
                i = self.end = self._token_end(i)
            i = _skip_blanks(script, i)
        self._emit()
        return self.statements

    def _emit(self) -> None:
        if self.start is not None:
            line, column = position(self.script, self.start)
            self.statements.append(Statement(self.script[self.start : self.end], self.start, line, column))
        self._new_statement()

    def _token_end(self, i: int) -> int:
        script, char = self.script, self.script[i]
        if char in "'\"":
            return _quoted_end(script, i, backslash_escapes=False)
        if char == "$" and (tag := _DOLLAR_QUOTE.match(script, i)):
            close = script.find(tag.group(), tag.end())
            if close < 0:
                raise SplitError(
                    f"the dollar quote {tag.group()} opened here is never closed",
                    i,
                    hint=f"end the quoted body with the same {tag.group()}",
                )
            return close + len(tag.group())
        if word := _WORD.match(script, i):
            if word.group() in ("E", "e") and script.startswith("'", word.end()):
                return _quoted_end(script, word.end(), backslash_escapes=True)
            self._track_routine_body(word.group().lower(), word.end())
            return word.end()
        if char == "(":
            self.parens += 1
        elif char == ")":
            self.parens = max(0, self.parens - 1)
        return i + 1

    def _track_routine_body(self, word: str, after: int) -> None:
        """Counts BEGIN ATOMIC ... END, and the CASE ... END inside it, in CREATE [OR REPLACE] FUNCTION/PROCEDURE:
        the semicolons of the body's statements belong to the one CREATE statement."""
        if len(self.words) < 4:
            self.words.append(word)
        if self.parens or not _defines_routine(self.words):
            return
        if self.atomic_depth == 0:
            if word == "begin" and (atomic := _WORD.match(self.script, _skip_blanks(self.script, after))):
                self.atomic_depth = int(atomic.group().lower() == "atomic")
        elif word == "case":
            self.atomic_depth += 1
        elif word == "end":
            self.atomic_depth -= 1


def _defines_routine(words: list[str]) -> bool:
    if words[:3] == ["create", "or", "replace"]:
        return len(words) > 3 and words[3] in _ROUTINES
    return words[:1] == ["create"] and len(words) > 1 and words[1] in _ROUTINES


def _skip_blanks(script: str, i: int) -> int:
    """The offset of the next token at or after ``i``, past whitespace and comments."""
    while i < len(script):
        if script[i].isspace():
            i += 1
        elif script.startswith("--", i):
            newline = script.find("\n", i)
            i = len(script) if newline < 0 else newline + 1
        elif script.startswith("/*", i):
            i = _block_comment_end(script, i)
        else:
            break
    return i


def _quoted_end(script: str, i: int, *, backslash_escapes: bool) -> int:
    """The offset just past the quoted string or identifier opening at ``i``; a doubled quote stands for itself."""
    quote, j = script[i], i + 1
    while j < len(script):
        if backslash_escapes and script[j] == "\\":
            j += 2
        elif script[j] != quote:
            j += 1
        elif script.startswith(quote, j + 1):
            j += 2
        else:
            return j + 1
    what = "quoted identifier" if quote == '"' else "string literal"
    raise SplitError(f"the {what} opened here is never closed", i, hint=f"close it with {quote}")


def _block_comment_end(script: str, i: int) -> int:
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
    raise SplitError(
        "the /* comment opened here is never closed", i, hint="close it with */ (comments nest: every /* needs one)"
    )


def _meta_command(script: str, i: int) -> SplitError:
    command = _META_COMMAND.match(script, i)
    name = command.group() if command else "\\"
    return SplitError(
        f"psql meta-command {name} is not supported: the file is run as plain SQL, not by psql",
        i,
        hint="write the SQL itself (a backslash outside quotes is never valid SQL)",
    )
