"""Stage 9: expand and backfill while the old version of the application keeps running."""

from labkit.checks import fail
from online import Rollout, verify_names
from pgcatalog import columns


def check_old_version_keeps_working_and_every_row_gets_its_name_parts(postgres, postgres_learner, impl_dir, rng):
    """The old version never fails during expand and backfill, and afterwards every user has first and last name"""
    with Rollout(postgres, postgres_learner, impl_dir, rng) as rollout:
        rollout.run(until="backfill")
        rollout.stop("old")
        found = columns(rollout.admin)
        missing = [name for name in ("first_name", "last_name", "full_name") if ("users", name) not in found]
        if missing:
            fail(
                f"after online/backfill.sql, users has no column {', '.join(missing)}",
                hint="expand.sql adds first_name and last_name (text, nullable) and keeps full_name",
            )
        verify_names(rollout.admin, rollout.model, with_full_name=True)
