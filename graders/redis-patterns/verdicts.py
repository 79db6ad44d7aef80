"""What this lab adds to ``labkit.pool.expect_answers``: the usual cause of each exception a learner meets here,
and the rule that answers documented as bools are bools."""

from __future__ import annotations

from collections.abc import Sequence

from labkit.checks import fail
from labkit.pool import Outcome

# Exceptions a learner meets in this lab, from redis-py or their own code, with the usual cause.
HINTS = {
    "NotImplementedError": "this function is still the starter's stub: implement it as the README describes",
    "NoPermissionError": "the grader's Redis user may not run server-wide commands (FLUSHALL, CONFIG, CLIENT, "
    "...): use data commands only",
    "ResponseError": "Redis refused a command; the message says which and why",
    "ConnectionError": "read REDIS_URL from the environment, and keep one client per process",
    "TimeoutError": "a wait gave up; the README says how long each call may wait",
    "WatchError": "a WATCHed key changed before EXEC: run the whole transaction again",
}


def expect_bools(outcomes: Sequence[Outcome]) -> None:
    """Every call returned a bool, as the README documents for allow(), release() and fenced_write()."""
    for outcome in outcomes:
        if not isinstance(outcome.value, bool):
            fail(
                f"{outcome.call} returned {type(outcome.value).__name__}, not a bool",
                got=repr(outcome.value),
                hint="return True or False, not 1 or 0 or a reply from Redis",
            )
