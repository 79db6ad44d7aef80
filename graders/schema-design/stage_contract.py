"""Stage 10: both versions side by side after the backfill, then the contract step under the new version."""

from labkit.checks import fail
from online import Rollout, verify_names
from pgcatalog import columns, indexes
from writes import Probe, expect_probes

NEW_INSERT = "INSERT INTO users (email, first_name, last_name) VALUES (%s, %s, %s)"


def check_both_versions_work_then_the_contract_leaves_only_the_new_schema(postgres, postgres_learner, impl_dir, rng):
    """Both versions work side by side, the new one throughout the contract, which leaves only the new schema"""
    with Rollout(postgres, postgres_learner, impl_dir, rng) as rollout:
        rollout.run()
        verify_names(rollout.admin, rollout.model, with_full_name=False)
        found = columns(rollout.admin)
        if ("users", "full_name") in found:
            fail(
                "after online/contract.sql, users still has the column full_name",
                hint="contract.sql drops what only the old version used: DROP COLUMN full_name",
            )
        expect_probes(
            rollout.migrator,
            [
                Probe("users.first_name is required after the contract", NEW_INSERT,
                      ("final1@example.com", None, "Hopper"), ("23502",),
                      "make first_name NOT NULL in contract.sql (see the lock-safety stage for how)"),
                Probe("users.last_name is required after the contract", NEW_INSERT,
                      ("final2@example.com", "Grace", None), ("23502",),
                      "make last_name NOT NULL in contract.sql (see the lock-safety stage for how)"),
                Probe("the new version inserts users", NEW_INSERT, ("final3@example.com", "Grace", "Hopper")),
            ],
        )  # fmt: skip
        leading = [index for index in indexes(rollout.admin) if index.table == "users" and index.valid]
        if not any(index.columns[:1] == ("last_name",) for index in leading):
            fail(
                "users has no valid index whose first column is last_name: the new version's "
                "SELECT id FROM users WHERE last_name = %s reads the whole table",
                hint="CREATE INDEX CONCURRENTLY ON users (last_name), in expand.sql or contract.sql",
            )
