"""Writes the grader sends as the application would, and what the database must answer.

A rejected write must fail with the documented SQLSTATE. Every probe runs in its own transaction that is rolled
back afterwards, so probes do not disturb each other; ``SET CONSTRAINTS ALL IMMEDIATE`` makes a DEFERRABLE
constraint answer inside that transaction, as it would at COMMIT.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from labkit.checks import fail, log
from pgsession import render

SQLSTATE_NAMES = {
    "23001": "restrict_violation",
    "23502": "not_null_violation",
    "23503": "foreign_key_violation",
    "23505": "unique_violation",
    "23514": "check_violation",
    "22P02": "invalid_text_representation",
    "22003": "numeric_value_out_of_range",
    "42703": "undefined_column",
    "42P01": "undefined_table",
    "42501": "insufficient_privilege",
    "55P03": "lock_not_available",
    "57014": "query_canceled",
}


def sqlstate_name(code: str | None) -> str:
    return f"{code} {SQLSTATE_NAMES.get(code or '', 'error')}"


@dataclass(frozen=True)
class Outcome:
    sqlstate: str | None  # None: the statement succeeded
    message: str = ""
    rowcount: int = 0

    def describe(self) -> str:
        if self.sqlstate is None:
            rows = "1 row" if self.rowcount == 1 else f"{self.rowcount} rows"
            return f"the statement succeeded ({rows})"
        return f"{sqlstate_name(self.sqlstate)}: {self.message}"


@dataclass(frozen=True)
class Probe:
    """One statement and the answer the rules demand: success (``expect`` empty) or one of these SQLSTATEs."""

    rule: str
    statement: str
    params: tuple[object, ...] = ()
    expect: tuple[str, ...] = ()
    hint: str = ""
    after: str | None = None  # optional query whose single value must be true after the statement, in the same tx

    def shown(self) -> str:
        return render(self.statement, self.params)


def attempt(conn: psycopg.Connection, probe: Probe) -> tuple[Outcome, bool]:
    """Runs ``probe`` in a transaction that is always rolled back; returns the outcome and whether ``after``
    (if any) held."""
    after_held = True
    with conn.transaction(force_rollback=True):
        try:
            cursor = conn.execute(probe.statement, probe.params or None)
            rowcount = cursor.rowcount
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if probe.after is not None:
                row = conn.execute(probe.after).fetchone()
                after_held = bool(row and row[0])
            outcome = Outcome(None, rowcount=rowcount)
        except psycopg.Error as error:
            outcome = Outcome(error.sqlstate, (error.diag.message_primary or str(error)).strip())
    log(f"{probe.shown()}  →  {outcome.describe()}")
    return outcome, after_held


def expect_probes(conn: psycopg.Connection, probes: list[Probe]) -> None:
    """Runs every probe, then fails once, showing the first wrong answer in full and listing the others."""
    failures: list[tuple[Probe, Outcome, bool]] = []
    for probe in probes:
        outcome, after_held = attempt(conn, probe)
        wanted = outcome.sqlstate in probe.expect if probe.expect else outcome.sqlstate is None and after_held
        if not wanted:
            failures.append((probe, outcome, after_held))
    if not failures:
        return
    probe, outcome, after_held = failures[0]
    message = describe_failure(probe, outcome, after_held)
    if len(failures) > 1:
        others = "\n".join(f"  - {other.rule}: {o.describe()}" for other, o, _ in failures[1:])
        message += f"\n{len(failures) - 1} more rule(s) not enforced:\n{others}"
    fail(message, expected=_expected(probe), got=outcome.describe(), hint=probe.hint or None)


def describe_failure(probe: Probe, outcome: Outcome, after_held: bool) -> str:
    codes = " or ".join(sqlstate_name(code) for code in probe.expect)
    if probe.expect and outcome.sqlstate is None:
        head, tail = f"the database accepted a write that breaks the rule “{probe.rule}”", f"rejected with {codes}"
    elif probe.expect:
        head, tail = f"a write that breaks the rule “{probe.rule}” was rejected with the wrong error", codes
    elif outcome.sqlstate is not None:
        head, tail = f"the database rejected a valid write ({probe.rule})", "the statement succeeds"
    else:
        assert not after_held
        head = f"a valid write succeeded but did not have the documented effect ({probe.rule})"
        return f"{head}\n  {probe.shown()}\n  then this must be true: {probe.after}"
    return f"{head}\n  {probe.shown()}\n  got: {outcome.describe()}\n  expected: {tail}"


def _expected(probe: Probe) -> str:
    if probe.expect:
        return "rejected with SQLSTATE " + " or ".join(probe.expect)
    return "the statement succeeds"


def run(conn: psycopg.Connection, statement: str, params: tuple[object, ...] = (), *, why: str) -> list[TupleRow]:
    """A write or read that must succeed and stay (autocommit); a refusal fails the check, naming ``why``."""
    try:
        cursor = conn.execute(statement, params or None)
        rows = cursor.fetchall() if cursor.description else []
    except psycopg.Error as error:
        outcome = Outcome(error.sqlstate, (error.diag.message_primary or str(error)).strip())
        log(f"{render(statement, params)}  →  {outcome.describe()}")
        fail(
            f"the database rejected a valid write ({why})\n  {render(statement, params)}\n  got: {outcome.describe()}",
            expected="the statement succeeds",
            got=outcome.describe(),
            hint=_hint_for_valid_write(outcome.sqlstate),
        )
    log(f"{render(statement, params)}  →  ok")
    return rows


def _hint_for_valid_write(sqlstate: str | None) -> str:
    if sqlstate in ("42703", "42P01"):
        return "use exactly the table and column names of the README"
    if sqlstate == "23502":
        return "a column the README lists as optional or defaulted must accept the write as shown"
    if sqlstate == "42501":
        return "the application role owns the tables you create; do not revoke its privileges"
    return "compare the constraint that fired with the business rules in the README: it is stricter than they are"


@dataclass(frozen=True)
class Fact:
    """A query returning one boolean that must be true of the data the check wrote."""

    rule: str
    query: str
    params: tuple[object, ...] = ()
    hint: str = ""


def expect_facts(conn: psycopg.Connection, facts: list[Fact]) -> None:
    for fact in facts:
        try:
            row = conn.execute(fact.query, fact.params or None).fetchone()
            value = row[0] if row else None
        except psycopg.Error as error:
            value = f"{sqlstate_name(error.sqlstate)}: {(error.diag.message_primary or str(error)).strip()}"
        log(f"{render(fact.query, fact.params)}  →  {value!r}")
        if value is not True:
            fail(
                f"{fact.rule}: not so after valid writes\n  {render(fact.query, fact.params)}\n  got: {value!r}",
                expected="true",
                got=repr(value),
                hint=fact.hint or None,
            )
