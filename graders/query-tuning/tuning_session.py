"""One check's view of the lab: the learner's query files prepared in a read-only session of the tuned database
(as the learner role), executed and explained with given arguments, and compared with the reference answers
from the oracle. Every way a learner's SQL can fail becomes a CheckFailed that names the file."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from labkit.checks import fail, log
from labkit.tools.sql import Statement, describe_error, read_script, split_script
from pgplans import Plan, parse_plan, render
from rowdiff import count_rows, expect_same_rows
from tuning_db import LabDatabases
from tuning_queries import QuerySpec

QUERY_TIMEOUT_S = 10


class TuningSession:
    def __init__(
        self, databases: LabDatabases, impl_dir: Path, learner: psycopg.Connection, oracle: psycopg.Connection
    ):
        self.databases = databases
        self.impl_dir = Path(impl_dir)
        self.learner = learner
        self.oracle = oracle
        self._prepared: set[str] = set()
        self._index_definitions: dict[str, str] | None = None

    # -- the learner's files -------------------------------------------------------------------------------

    def load(self, spec: QuerySpec) -> tuple[str, Statement]:
        path = self.impl_dir / spec.file
        if not path.is_file():
            fail(f"{spec.file} is missing from your folder", hint=f"write your version of {spec.name} there")
        script = read_script(path, spec.file)
        statements = split_script(script, spec.file)
        if not statements:
            fail(f"{spec.file} holds no SQL statement (only comments or blank lines)")
        if len(statements) > 1:
            lines = ", ".join(str(statement.line) for statement in statements)
            fail(f"{spec.file} must hold exactly one statement; it holds {len(statements)} (at lines {lines})")
        return script, statements[0]

    def prepare(self, spec: QuerySpec) -> None:
        """PREPAREs the learner's query with the documented parameter types; checks the result columns."""
        if spec.name in self._prepared:
            return
        script, statement = self.load(spec)
        name = f"learner_{spec.name}"
        types = f"({', '.join(spec.types)})" if spec.params else ""
        prefix = f"PREPARE {name}{types} AS "
        try:
            self.learner.execute(prefix + statement.text)
        except psycopg.Error as exc:
            self.learner.rollback()
            fail(describe_error(exc, file=spec.file, script=script, statement=statement, sent_prefix=len(prefix)))
        described = self.learner.pgconn.describe_prepared(name.encode())
        columns = tuple((described.fname(i) or b"").decode() for i in range(described.nfields))
        if columns != spec.columns:
            fail(
                f"{spec.file} returns the wrong columns",
                expected=", ".join(spec.columns),
                got=", ".join(columns) or "(no columns)",
                hint="name the result columns exactly as the original does (use AS where an expression needs a name)",
            )
        self._prepared.add(spec.name)

    def _execute(self, spec: QuerySpec, values: tuple[object, ...]) -> sql.Composed:
        name = sql.Identifier(f"learner_{spec.name}")
        if not values:
            return sql.SQL("EXECUTE {}").format(name)
        return sql.SQL("EXECUTE {}({})").format(name, sql.SQL(", ").join(sql.Literal(v) for v in values))

    def _run_learner(self, spec: QuerySpec, statement: sql.Composed) -> list[tuple[object, ...]]:
        try:
            return self.learner.execute(statement).fetchall()
        except psycopg.errors.QueryCanceled:
            self.learner.rollback()
            plan = self._estimated_plan(spec, statement)
            fail(
                f"{spec.file}: the query did not finish within {QUERY_TIMEOUT_S} s; its estimated plan:\n{plan}",
                hint="a query this slow reads far more than it returns: look for Seq Scans and nested loops over them",
            )
        except psycopg.Error as exc:
            self.learner.rollback()
            script, parsed = self.load(spec)
            fail(describe_error(exc, file=spec.file, script=script, statement=parsed, sent_prefix=None))

    def _estimated_plan(self, spec: QuerySpec, statement: sql.Composed) -> str:
        try:
            self.prepare(spec)
            (document,) = self.learner.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + statement).fetchall()
        except psycopg.Error:
            self.learner.rollback()
            return "  (not available)"
        return render(parse_plan(document[0]))

    def rows(self, spec: QuerySpec, values: tuple[object, ...]) -> list[tuple[object, ...]]:
        self.prepare(spec)
        return self._run_learner(spec, self._execute(spec, values))

    def plan(self, spec: QuerySpec, values: tuple[object, ...]) -> Plan:
        """The learner query's plan as executed (EXPLAIN ANALYZE), after one warm-up run that fills the caches."""
        self.rows(spec, values)
        explain = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ") + self._execute(spec, values)
        (document,) = self._run_learner(spec, explain)
        plan = Plan(spec.describe(values), parse_plan(document[0]))
        definitions = self.index_definitions()
        for node in plan.root.walk():
            node.index_definition = definitions.get(node.index or "")
        log(f"plan of {plan.call}:\n{render(plan.root)}")
        return plan

    # -- the reference answers -----------------------------------------------------------------------------

    def reference(self, spec: QuerySpec, values: tuple[object, ...]) -> list[tuple[object, ...]]:
        """The original query's rows on the pristine data: computed once per run for each set of arguments."""
        key = (spec.name, values)
        cached = self.databases.references.get(key)
        if cached is None:
            cached = self.oracle_rows(spec.original, spec.types, values)
            self.databases.references[key] = cached
        return cached

    def remember_reference(self, spec: QuerySpec, values: tuple[object, ...], rows: list[tuple[object, ...]]) -> None:
        self.databases.references[(spec.name, values)] = rows

    def oracle_rows(self, query: str, types: tuple[str, ...], values: tuple[object, ...]) -> list[TupleRow]:
        """Runs one of the grader's own queries on the oracle: parameters are $1, $2... of the given types. The
        values' types are the query's columns', which its caller knows."""
        name = sql.Identifier("reference")
        declared = sql.SQL("({})").format(sql.SQL(", ").join(sql.SQL(t) for t in types)) if types else sql.SQL("")
        self.oracle.execute(sql.SQL("PREPARE {}{} AS {}").format(name, declared, sql.SQL(query)))
        args = sql.SQL("({})").format(sql.SQL(", ").join(sql.Literal(v) for v in values)) if values else sql.SQL("")
        rows = self.oracle.execute(sql.SQL("EXECUTE {}{}").format(name, args)).fetchall()
        self.oracle.execute(sql.SQL("DEALLOCATE {}").format(name))
        return rows

    # -- checks shared by the stages -----------------------------------------------------------------------

    def expect_same_rows(self, spec: QuerySpec, values: tuple[object, ...], hint: str) -> None:
        expected = self.reference(spec, values)
        got = self.rows(spec, values)
        log(f"{spec.describe(values)}: {count_rows(got)} (the original: {count_rows(expected)})")
        expect_same_rows(spec.describe(values), got, expected, ordered=spec.ordered, hint=hint)

    def index_definitions(self) -> dict[str, str]:
        """What each index holds, as pg_get_indexdef says after USING: "btree (store_id, created_at) INCLUDE (...)"."""
        if self._index_definitions is None:
            rows = self.learner.execute(
                "SELECT indexrelid::regclass::text, split_part(pg_get_indexdef(indexrelid), ' USING ', 2) "
                "FROM pg_index WHERE indrelid IN ('customers'::regclass, 'orders'::regclass)"
            ).fetchall()
            self._index_definitions = dict(rows)
        return self._index_definitions

    def index_sizes(self) -> dict[str, tuple[str, int]]:
        """Every index on the lab's tables: its table and its size in bytes."""
        rows = self.learner.execute(
            "SELECT indexrelid::regclass::text, indrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
            "WHERE indrelid IN ('customers'::regclass, 'orders'::regclass)"
        ).fetchall()
        return {index: (table, size) for index, table, size in rows}
