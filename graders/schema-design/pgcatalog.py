"""What the catalog says about the learner's schema (read with the superuser connection).

Types come from information_schema.columns, which sees through domains: a column of a domain over
numeric(12,2) reports numeric with scale 2, as the column itself would.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    data_type: str  # information_schema spelling: "numeric", "timestamp with time zone", "USER-DEFINED", ...
    udt_name: str
    precision: int | None
    scale: int | None
    domain: str | None

    @property
    def qualified(self) -> str:
        return f"{self.table}.{self.name}"

    def shown_type(self) -> str:
        shown = self.data_type if self.data_type != "USER-DEFINED" else self.udt_name
        if self.data_type == "numeric" and self.precision is not None:
            shown = f"numeric({self.precision},{self.scale})"
        if self.domain:
            shown += f" (through domain {self.domain})"
        return shown


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]

    def shown(self) -> str:
        return f"{self.table} ({', '.join(self.columns)}) → {self.ref_table} ({', '.join(self.ref_columns)})"


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    columns: tuple[str | None, ...]  # None where the index has an expression
    valid: bool
    partial: bool
    method: str


def columns(admin: psycopg.Connection) -> dict[tuple[str, str], Column]:
    rows = admin.execute(
        """SELECT table_name, column_name, data_type, udt_name, numeric_precision, numeric_scale, domain_name
             FROM information_schema.columns
            WHERE table_schema = 'public'"""
    ).fetchall()
    return {(row[0], row[1]): Column(*row) for row in rows}


def relation_kinds(admin: psycopg.Connection) -> dict[str, str]:
    """Relations of schema public by name: 'r' table, 'p' partitioned table, 'v' view, 'm' materialized view."""
    rows = admin.execute(
        "SELECT relname, relkind::text FROM pg_class WHERE relnamespace = 'public'::regnamespace"
    ).fetchall()
    return dict(rows)


def tables_with_primary_key(admin: psycopg.Connection) -> set[str]:
    rows = admin.execute(
        """SELECT conrelid::regclass::text FROM pg_constraint
            WHERE contype = 'p' AND connamespace = 'public'::regnamespace"""
    ).fetchall()
    return {row[0] for row in rows}


def foreign_keys(admin: psycopg.Connection) -> list[ForeignKey]:
    rows = admin.execute(
        """SELECT c.conname, c.conrelid::regclass::text,
                  array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n),
                  c.confrelid::regclass::text,
                  array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
                        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.n)
             FROM pg_constraint c
            WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
            ORDER BY 2, 1"""
    ).fetchall()
    return [ForeignKey(name, table, tuple(cols), ref, tuple(ref_cols)) for name, table, cols, ref, ref_cols in rows]


def indexes(admin: psycopg.Connection) -> list[Index]:
    rows = admin.execute(
        """SELECT ic.relname, i.indrelid::regclass::text,
                  array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
                        LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                        WHERE k.n <= i.indnkeyatts ORDER BY k.n),
                  i.indisvalid, i.indpred IS NOT NULL, am.amname
             FROM pg_index i
             JOIN pg_class ic ON ic.oid = i.indexrelid
             JOIN pg_am am ON am.oid = ic.relam
            WHERE ic.relnamespace = 'public'::regnamespace
            ORDER BY 1"""
    ).fetchall()
    return [Index(name, table, tuple(cols), *flags) for name, table, cols, *flags in rows]


def supporting_index(fk: ForeignKey, candidates: list[Index]) -> Index | None:
    """An index that finds the referencing rows of one referenced row: a valid, non-partial btree whose leading
    key columns are exactly the foreign key's columns (in any order)."""
    wanted = set(fk.columns)
    for index in candidates:
        leading = index.columns[: len(fk.columns)]
        if (
            index.table == fk.table
            and index.valid
            and not index.partial
            and index.method == "btree"
            and None not in leading
            and set(leading) == wanted
        ):
            return index
    return None
