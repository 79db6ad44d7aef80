"""Observing how long a migration step would block the application on a big table, without timing anything.

A lock that blocks writes (SHARE or stronger) is harmless when it is held for a catalog change and fatal when it is
held while every row is read or rewritten, because then its duration grows with the table. Two event triggers,
installed by the superuser in the check's database, record the second kind deterministically:

* ``ddl_command_start`` / ``ddl_command_end``: how many rows the statement read from each table (the session's own
  pending statistics, before and after) and which locks the session holds at its end;
* ``table_rewrite``: the statement is about to rewrite a table.

Separately, the number of rows of users that one transaction of a step changed is read from xmin afterwards, and
from a statement trigger on users that notes every row an UPDATE changes, by transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

import psycopg

from labkit.errors import ServiceUnavailable

ROWS_READ_LIMIT = 100
BATCH_LIMIT = 1000
BLOCKING_MODES = {
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
REWRITE_REASONS = {
    1: "a change of persistence (LOGGED/UNLOGGED)",
    2: "a new column whose default must be computed row by row (a volatile default such as clock_timestamp())",
    4: "a column type change that needs every value converted",
    8: "a change of access method",
}

INSTALL = f"""
CREATE SCHEMA labkit_audit;
REVOKE ALL ON SCHEMA labkit_audit FROM PUBLIC;
CREATE TABLE labkit_audit.reads_before (pid int, relid oid, tuples bigint);
CREATE TABLE labkit_audit.findings (
    id bigserial PRIMARY KEY, kind text, relname text, lock_mode text, tuples bigint, reason int, query text);

CREATE FUNCTION labkit_audit.statement_start() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM labkit_audit.reads_before WHERE pid = pg_backend_pid();
    INSERT INTO labkit_audit.reads_before
    SELECT pg_backend_pid(), relid, seq_tup_read FROM pg_stat_xact_user_tables WHERE schemaname = 'public';
END $$;

CREATE FUNCTION labkit_audit.statement_end() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO labkit_audit.findings (kind, relname, lock_mode, tuples, query)
    SELECT 'scan', s.relname, l.mode, s.seq_tup_read - coalesce(b.tuples, 0), current_query()
      FROM pg_stat_xact_user_tables s
      JOIN pg_locks l ON l.locktype = 'relation' AND l.relation = s.relid
                     AND l.pid = pg_backend_pid() AND l.granted
      LEFT JOIN labkit_audit.reads_before b ON b.pid = pg_backend_pid() AND b.relid = s.relid
     WHERE s.schemaname = 'public'
       AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
       AND s.seq_tup_read - coalesce(b.tuples, 0) > {ROWS_READ_LIMIT};
    DELETE FROM labkit_audit.reads_before WHERE pid = pg_backend_pid();
END $$;

CREATE FUNCTION labkit_audit.rewrite() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target regclass := pg_event_trigger_table_rewrite_oid();
    populated boolean;
BEGIN
    EXECUTE format('SELECT count(*) > {ROWS_READ_LIMIT} FROM (SELECT FROM %s LIMIT {ROWS_READ_LIMIT + 1}) t', target)
       INTO populated;
    IF populated THEN
        INSERT INTO labkit_audit.findings (kind, relname, reason, query)
        VALUES ('rewrite', (SELECT relname FROM pg_class WHERE oid = target),
                pg_event_trigger_table_rewrite_reason(), current_query());
    END IF;
END $$;

-- Every row of users an UPDATE changes, by transaction: a row updated again later keeps only its last xmin, so
-- xmin alone would hide a transaction whose rows later transactions touched once more.
CREATE TABLE labkit_audit.changed_rows (xid bigint, id text, PRIMARY KEY (xid, id));
CREATE FUNCTION labkit_audit.note_changed_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO labkit_audit.changed_rows SELECT txid_current(), id::text FROM changed ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER labkit_audit_changed_rows AFTER UPDATE ON public.users
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION labkit_audit.note_changed_rows();

CREATE EVENT TRIGGER labkit_audit_start ON ddl_command_start EXECUTE FUNCTION labkit_audit.statement_start();
CREATE EVENT TRIGGER labkit_audit_end ON ddl_command_end EXECUTE FUNCTION labkit_audit.statement_end();
CREATE EVENT TRIGGER labkit_audit_rewrite ON table_rewrite EXECUTE FUNCTION labkit_audit.rewrite();
"""


@dataclass(frozen=True)
class Finding:
    source: str
    line: int | None
    statement: str
    problem: str
    hint: str


def install(admin: psycopg.Connection) -> None:
    try:
        admin.execute(INSTALL)
    except psycopg.Error as error:
        raise ServiceUnavailable(
            f"installing the lock audit's event triggers failed: {error}".strip(),
            hint="the lock-safety stage needs a superuser connection (LABKIT_POSTGRES_URL for --services external)",
        ) from error


def next_xid(admin: psycopg.Connection) -> int:
    """The first transaction id not yet assigned: rows with a newer xmin were written after this call."""
    row = admin.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").fetchone()
    assert row is not None
    return int(row[0]) % 2**32


def largest_transaction(admin: psycopg.Connection, since_xid: int) -> int:
    """The most rows of users that one transaction begun after ``since_xid`` changed: rows it inserted or updated
    that still carry its xmin, or rows its UPDATEs changed (counted once each) even if a later one changed them
    again."""
    row = admin.execute(
        """SELECT coalesce(max(n), 0) FROM (
               SELECT count(*) AS n FROM users WHERE xmin::text::bigint >= %s GROUP BY xmin
               UNION ALL
               SELECT count(*) FROM labkit_audit.changed_rows WHERE xid %% 4294967296 >= %s GROUP BY xid
           ) AS per_transaction""",
        (since_xid, since_xid),
    ).fetchone()
    return int(row[0]) if row else 0


# A finding as recorded: kind, table, lock mode, rows read, rewrite reason, statement.
AuditRow: TypeAlias = tuple[str, str, str | None, int | None, int | None, str]


def drain(admin: psycopg.Connection) -> list[AuditRow]:
    """Findings recorded since the last call (kind, table, lock mode, rows read, rewrite reason, statement)."""
    return admin.execute(
        """WITH taken AS (DELETE FROM labkit_audit.findings RETURNING *)
           SELECT kind, relname, lock_mode, tuples, reason, query FROM taken ORDER BY id"""
    ).fetchall()


def worst_per_statement(findings: Iterable[AuditRow]) -> list[AuditRow]:
    """One finding per statement and table: a rewrite if there was one, else the scan under the strongest lock."""
    ranks = list(BLOCKING_MODES)
    worst: dict[tuple[str, str], tuple[int, AuditRow]] = {}
    for finding in findings:
        kind, table, mode, _tuples, _reason, query = finding
        rank = len(ranks) if kind == "rewrite" else ranks.index(mode) if mode in ranks else -1
        key = (query, table)
        if key not in worst or rank > worst[key][0]:
            worst[key] = (rank, finding)
    return [finding for _rank, finding in worst.values()]


def describe(kind: str, table: str, mode: str | None, tuples: int | None, reason: int | None) -> tuple[str, str]:
    """What went wrong and what to do instead."""
    if kind == "rewrite":
        why = REWRITE_REASONS.get(reason or 0, "a change that needs every row rewritten")
        return (
            f"rewrote all of {table} under an ACCESS EXCLUSIVE lock, because of {why}: nobody can read or write "
            f"{table} until it finishes",
            "add a new nullable column (constant defaults are fine) and fill it in batches instead",
        )
    shown_mode = BLOCKING_MODES.get(mode or "", mode or "?")
    article = "an" if shown_mode[0] in "AEIOU" else "a"
    amount = "thousands of" if (tuples or 0) >= 1000 else f"more than {ROWS_READ_LIMIT}"
    problem = (
        f"read {amount} rows of {table} while holding {article} {shown_mode} lock on it: writes to {table} wait "
        "for the whole scan, which grows with the table"
    )
    if mode == "ShareLock":
        hint = "build indexes with CREATE INDEX CONCURRENTLY (outside BEGIN ... COMMIT)"
    else:
        hint = (
            "validate without the strong lock: add CHECK and FOREIGN KEY constraints NOT VALID, then VALIDATE "
            "CONSTRAINT in a separate statement; SET NOT NULL skips its scan when a validated "
            "CHECK (column IS NOT NULL) already proves it"
        )
    return problem, hint
