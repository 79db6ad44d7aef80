"""Comparing a learner query's rows with the original's, and saying where they part: the first differing row
for ordered results, a missing and an unexpected row otherwise. Values are shown as SQL literals."""

from __future__ import annotations

import datetime
from collections import Counter

from labkit.checks import fail


def show(value: object) -> str:
    """A value as psql would print it inside a literal: strings and times quoted, UTC as +00, NULL for None."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        text = value.isoformat(sep=" ")
        return "'" + (text[:-6] + "+00" if text.endswith("+00:00") else text) + "'"
    if isinstance(value, datetime.date):
        return f"'{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def show_row(row: tuple[object, ...]) -> str:
    return "(" + ", ".join(show(value) for value in row) + ")"


def count_rows(rows: list[tuple[object, ...]]) -> str:
    return f"{len(rows)} row" + ("" if len(rows) == 1 else "s")


def expect_same_rows(
    call: str, got: list[tuple[object, ...]], expected: list[tuple[object, ...]], *, ordered: bool, hint: str
) -> None:
    if got == expected:
        return
    message = (
        f"{call} does not return the rows of the original query: expected {count_rows(expected)}, got {count_rows(got)}"
    )
    if ordered:
        position = next(
            (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b), min(len(got), len(expected))
        )
        want = show_row(expected[position]) if position < len(expected) else "(no more rows)"
        have = show_row(got[position]) if position < len(got) else "(no more rows)"
        fail(
            f"{message}; they first differ at row {position + 1}",
            expected=f"row {position + 1}: {want}",
            got=f"row {position + 1}: {have}",
            hint=hint,
        )
    missing = list((Counter(expected) - Counter(got)).elements())
    extra = list((Counter(got) - Counter(expected)).elements())
    if not missing and not extra:
        return  # the same rows in another order, which an unordered query may return
    fail(
        message,
        expected=f"also {show_row(missing[0])}" if missing else "no other rows",
        got=f"also {show_row(extra[0])}" if extra else "no other rows",
        hint=hint,
    )
