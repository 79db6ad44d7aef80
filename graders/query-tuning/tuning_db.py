"""The databases of one grading run, and everything the grader does to them.

- **dataset**: ``dataset.sql`` loaded once (a million orders, about 3 s). Cloned once into ``tuned``; afterwards
  it is the **oracle**: the grader adds its own indexes and runs the slow original queries there for the
  reference answers, so nothing the learner's migration does can change what counts as correct.
- **tuned**: the clone whose tables belong to the unprivileged learner role, where the learner's migration runs
  (as that role) and every learner query is prepared, executed and explained.

Every check reads ``tuned`` in its own READ ONLY session: a learner query cannot change what later checks see,
which is the isolation a fresh database per check would give, without copying 230 MB per check.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from labkit.errors import CheckFailed, HarnessError
from labkit.services import PostgresEndpoint, fresh_postgres_database, learner_role
from labkit.tools import sql as sql_tool

DATASET_SQL = Path(__file__).with_name("dataset.sql")
TABLES = ("customers", "orders")
MIGRATION = "migration.sql"
MIGRATION_TIMEOUT_S = 120.0
# What every session of the grader's runs with; the README tells the learner to do the same in psql.
SESSION_SETTINGS = {
    "TimeZone": "UTC",
    "max_parallel_workers_per_gather": "0",
    "plan_cache_mode": "force_custom_plan",
    "jit": "off",
    "search_path": "public",
}
# The grader's own indexes on the oracle: they make the slow originals fast enough to serve as references.
ORACLE_INDEXES = (
    "CREATE INDEX ON orders (customer_id, created_at)",
    "CREATE INDEX ON orders (created_at, id)",
    "CREATE INDEX ON orders (created_at, id) WHERE status = 'paid'",
)
TRANSACTION_CONTROL = frozenset({"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"})


def connect(
    endpoint: PostgresEndpoint,
    *,
    read_only: bool = False,
    autocommit: bool = False,
    statement_timeout: float | None = None,
) -> psycopg.Connection:
    return sql_tool.connect(
        endpoint,
        application="labkit-query-tuning",
        statement_timeout=statement_timeout,
        autocommit=autocommit,
        read_only=read_only,
        settings=SESSION_SETTINGS,
    )


def _grader_sql(what: str, endpoint: PostgresEndpoint, statements: list[str]) -> None:
    """Runs the grader's own statements; a failure here is the harness's, never the learner's."""
    try:
        with connect(endpoint, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)
    except psycopg.Error as exc:
        raise HarnessError(f"{what} failed in database {endpoint.dbname}: {exc}") from exc


def load_dataset(endpoint: PostgresEndpoint) -> None:
    statements = [statement.text for statement in sql_tool.split_statements(DATASET_SQL.read_text())]
    _grader_sql("loading the dataset", endpoint, statements)
    if not _all_visible(endpoint):  # the plans of index-only scans would depend on it
        raise HarnessError("VACUUM did not mark the dataset all-visible; index-only scans would visit the table")


def hand_tables_to(admin: PostgresEndpoint, role: str) -> None:
    """Makes the learner role the tables' owner, as the README promises: it may index them, as a migration does."""
    name = sql.Identifier(role)
    statements = [sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(t), name).as_string() for t in TABLES]
    _grader_sql("handing the tables to the learner role", admin, statements)


def analyze(admin: PostgresEndpoint) -> None:
    _grader_sql("analyzing after the migration", admin, ["ANALYZE customers, orders"])


def _all_visible(endpoint: PostgresEndpoint) -> bool:
    with connect(endpoint, read_only=True) as conn:
        query = "SELECT bool_and(relallvisible = relpages) FROM pg_class WHERE relname IN ('customers', 'orders')"
        row = conn.execute(query).fetchone()
        return bool(row and row[0])


@dataclass
class LabDatabases:
    oracle: PostgresEndpoint  # superuser, pristine data and the grader's indexes
    tuned: PostgresEndpoint  # the learner role, after the migration
    migration_error: str | None
    changes: list[str]  # what the migration changed besides adding indexes
    original_indexes: frozenset[str]
    references: dict[tuple[str, tuple[object, ...]], list[tuple[object, ...]]] = field(default_factory=dict)


@contextmanager
def lab_databases(server: PostgresEndpoint, impl_dir: Path) -> Iterator[LabDatabases]:
    with ExitStack() as stack:
        dataset = stack.enter_context(fresh_postgres_database(server))
        load_dataset(dataset)
        tuned_admin = stack.enter_context(fresh_postgres_database(server, template=dataset.dbname))
        learner = stack.enter_context(learner_role(tuned_admin))
        hand_tables_to(tuned_admin, learner.user)
        before = fingerprint(tuned_admin, learner.user)
        indexes = index_names(tuned_admin)
        with ThreadPoolExecutor(max_workers=1) as pool:
            oracle_ready = pool.submit(_grader_sql, "building the reference indexes", dataset, list(ORACLE_INDEXES))
            error = apply_migration(learner, Path(impl_dir) / MIGRATION)
            changes = describe_changes(before, fingerprint(tuned_admin, learner.user))
            analyze(tuned_admin)
            oracle_ready.result()
        yield LabDatabases(dataset, learner, error, changes, indexes)


def apply_migration(learner: PostgresEndpoint, path: Path) -> str | None:
    """Runs the learner's migration as the learner role, all of it in one transaction; returns what went wrong."""
    if not path.is_file():
        return f"{MIGRATION} is missing from your folder ({path.parent.name}/)"
    try:
        script = sql_tool.read_script(path, MIGRATION)
        statements = sql_tool.split_script(script, MIGRATION)
    except CheckFailed as failure:
        return failure.message
    for statement in statements:
        if statement.first_word in TRANSACTION_CONTROL:
            return (
                f"{MIGRATION}, line {statement.line}: {statement.first_word} is not allowed: the grader runs the "
                f"whole migration in one transaction\n{sql_tool.excerpt(script, statement.offset)}"
            )
    with connect(learner) as conn, Deadline(conn, MIGRATION_TIMEOUT_S) as deadline:
        try:
            sql_tool.run_script(conn, script, MIGRATION)  # not autocommit: one transaction, committed below
        except CheckFailed as failure:
            conn.rollback()
            if deadline.expired:
                return f"{MIGRATION} was still running after {MIGRATION_TIMEOUT_S:g} s, the time allowed for it"
            return failure.message
        try:
            writes = _rows_written(conn)
            if writes:
                conn.rollback()
                return f"{MIGRATION} changed table data ({writes}): a migration for this lab only adds indexes"
            conn.commit()
        except psycopg.Error as exc:
            conn.rollback()
            if deadline.expired:
                return f"{MIGRATION} was still running after {MIGRATION_TIMEOUT_S:g} s, the time allowed for it"
            return f"{MIGRATION} could not be committed: ERROR {exc.diag.sqlstate}: {exc.diag.message_primary}"
    return None


class Deadline:
    """Cancels whatever ``conn`` is running once ``seconds`` have passed; a learner's SET cannot switch it off."""

    def __init__(self, conn: psycopg.Connection, seconds: float) -> None:
        self.expired = False
        self._conn = conn
        self._timer = threading.Timer(seconds, self._expire)

    def _expire(self) -> None:
        self.expired = True
        self._conn.cancel_safe()

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()


def _rows_written(conn: psycopg.Connection) -> str:
    rows = conn.execute(
        "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables WHERE schemaname = 'public' "
        "AND relname IN ('customers', 'orders') AND n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY relname"
    ).fetchall()
    return "; ".join(f"{name}: {ins} inserted, {upd} updated, {dele} deleted" for name, ins, upd, dele in rows)


# One line per fact about the schema that the migration must leave alone. Indexes are not listed: adding (or
# dropping its own) indexes is what the migration is for. relfilenode changes when a table is rewritten or
# truncated, so it is compared but, being a volatile number, reported only as "rewritten".
FINGERPRINT = """
SELECT format('%s %s', CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN
              'materialized view' WHEN 'S' THEN 'sequence' WHEN 'p' THEN 'partitioned table' ELSE 'relation' END,
              c.oid::regclass)
       || coalesce(' with (' || array_to_string(c.reloptions, ', ') || ')', '')
       || CASE WHEN c.relrowsecurity THEN ' with row level security' ELSE '' END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind NOT IN ('i', 'I', 't') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%'
UNION ALL
SELECT format('table %s rewritten %s', c.oid::regclass, c.relfilenode) FROM pg_class c
WHERE c.oid IN ('customers'::regclass, 'orders'::regclass)
UNION ALL
SELECT format('column %s.%s %s%s%s', a.attrelid::regclass, a.attname, format_type(a.atttypid, a.atttypmod),
              CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
              coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''))
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid IN ('customers'::regclass, 'orders'::regclass) AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT format('constraint %s on %s: %s', conname, conrelid::regclass, pg_get_constraintdef(oid))
FROM pg_constraint WHERE conrelid IN ('customers'::regclass, 'orders'::regclass)
UNION ALL
SELECT format('trigger %s on %s', tgname, tgrelid::regclass) FROM pg_trigger
WHERE tgrelid IN ('customers'::regclass, 'orders'::regclass) AND NOT tgisinternal
UNION ALL
SELECT format('policy %s on %s', polname, polrelid::regclass) FROM pg_policy
UNION ALL
SELECT format('rule %s on %s', rulename, ev_class::regclass) FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
WHERE c.oid IN ('customers'::regclass, 'orders'::regclass)
UNION ALL
SELECT format('setting %s for %s', array_to_string(s.setconfig, ', '),
              CASE WHEN s.setrole = 0 THEN 'the database' ELSE 'the role' END)
FROM pg_db_role_setting s
WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
      OR s.setrole = (SELECT oid FROM pg_roles WHERE rolname = {role})
"""


def fingerprint(admin: PostgresEndpoint, role: str) -> set[str]:
    try:
        with connect(admin, read_only=True) as conn:
            query = sql.SQL(FINGERPRINT).format(role=sql.Literal(role))
            return {row[0] for row in conn.execute(query).fetchall()}
    except psycopg.Error as exc:
        raise HarnessError(f"reading the catalog of {admin.dbname} failed: {exc}") from exc


def describe_changes(before: set[str], after: set[str]) -> list[str]:
    changes = []
    for fact in sorted(before - after):
        if " rewritten " in fact:
            changes.append(f"{fact.split(' rewritten ')[0]} was rewritten or truncated")
        else:
            changes.append(f"removed or changed: {fact}")
    changes.extend(f"added: {fact}" for fact in sorted(after - before) if " rewritten " not in fact)
    return changes


def index_names(admin: PostgresEndpoint) -> frozenset[str]:
    with connect(admin, read_only=True) as conn:
        rows = conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = ANY(%s::regclass[])", [list(TABLES)]
        )
        return frozenset(row[0] for row in rows.fetchall())
