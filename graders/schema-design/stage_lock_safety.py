"""Stage 11: no step rewrites or scans a big table under a lock that blocks the application, or changes more
than 1000 rows in one transaction."""

from labkit.checks import fail
from lockaudit import BATCH_LIMIT
from online import Rollout


def check_no_step_blocks_the_application_for_long(postgres, postgres_learner, impl_dir, rng):
    """No table rewrite, no full scan under a write-blocking lock, no transaction over 1000 rows"""
    with Rollout(postgres, postgres_learner, impl_dir, rng, audit=True) as rollout:
        rollout.run()
        findings = rollout.findings
    if findings:
        lines = []
        for finding in findings:
            where = f"{finding.source} line {finding.line}" if finding.line else finding.source
            statement = f" ({finding.statement})" if finding.statement else ""
            lines.append(f"{where}{statement}: {finding.problem}")
        fail(
            "a step would stall the application on a big table:\n  " + "\n  ".join(lines),
            expected=f"catalog-only changes under strong locks; scans under weak locks; at most {BATCH_LIMIT} "
            "rows per transaction",
            hint=findings[0].hint,
        )
