"""Stage 1: the migration applies as an unprivileged role, adds nothing but indexes, and every query prepares."""

from labkit.checks import fail
from labkit.errors import CheckFailed
from tuning_queries import QUERIES


def check_migration_applies(databases):
    """migration.sql applies in one transaction as an unprivileged role"""
    if databases.migration_error is not None:
        fail(
            databases.migration_error,
            hint="run it yourself with psql -v ON_ERROR_STOP=1 -1 -f migration.sql on a copy of the dataset",
        )


def check_migration_only_adds_indexes(databases):
    """The migration leaves tables, columns, constraints and settings as they were"""
    if databases.changes:
        shown = "\n".join(f"  {change}" for change in databases.changes[:8])
        more = f"\n  … and {len(databases.changes) - 8} more" if len(databases.changes) > 8 else ""
        fail(
            f"migration.sql changed more than indexes:\n{shown}{more}",
            hint="this lab is about indexes and query shape: no new tables, views, columns, triggers or settings",
        )


def check_every_query_prepares(tuning):
    """Every query file holds one statement with the documented parameters and columns"""
    problems = []
    for spec in QUERIES:
        try:
            tuning.prepare(spec)
        except CheckFailed as failure:
            detail = failure.message
            if failure.expected is not None:
                detail += f" (expected {failure.expected}; got {failure.got})"
            problems.append(detail)
    if problems:
        fail(
            f"{len(problems)} of {len(QUERIES)} query files are not ready:\n" + "\n".join(problems),
            hint="each file in queries/ holds one SELECT that uses $1, $2... as documented in the README",
        )
