"""Stage 7: every foreign key has an index that starts with its columns."""

from labkit.checks import fail
from pgcatalog import foreign_keys, indexes, supporting_index


def check_every_foreign_key_has_a_supporting_index(app, admin):
    """Every foreign key's columns lead some valid, non-partial btree index on the referencing table"""
    keys = foreign_keys(admin)
    candidates = indexes(admin)
    missing = [fk for fk in keys if supporting_index(fk, candidates) is None]
    if not keys:
        fail("the schema has no foreign keys", hint="the keys stage expects REFERENCES on every reference column")
    if missing:
        lines = [
            f"{fk.shown()} has no index starting with {', '.join(fk.columns)}: deleting or updating a "
            f"{fk.ref_table} row reads all of {fk.table}, and joins from {fk.ref_table} cannot use an index"
            for fk in missing
        ]
        first = missing[0]
        fail(
            "\n".join(lines),
            expected="an index whose leading columns are the foreign key's columns, for every foreign key",
            hint=f"CREATE INDEX ON {first.table} ({', '.join(first.columns)}); PostgreSQL indexes only the "
            "referenced side (the primary key) by itself",
        )
