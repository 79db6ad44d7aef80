"""What the learner reads when a call went wrong: which call, what it did, and what usually causes it."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from labkit.checks import fail
from pool import Outcome

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
DEFAULT_HINT = "the README says what each function returns and which exceptions it may raise"


def hint_for(type_name: str) -> str:
    return HINTS.get(type_name, DEFAULT_HINT)


def expect_answers(
    outcomes: Sequence[Outcome], allowed: Collection[str] = (), *, stuck_hint: str | None = None
) -> None:
    """Every call answered in time, and raised nothing but the exceptions in ``allowed``; ``stuck_hint`` says
    what usually makes these calls hang."""
    for outcome in outcomes:
        if outcome.failure is not None:
            fail(outcome.failure.message, got=str(outcome.call), hint=stuck_hint or outcome.failure.hint)
    for outcome in outcomes:
        if outcome.raised is not None and outcome.raised not in allowed:
            fail(
                f"your {outcome.call.function}() raised {outcome.raised}: {outcome.text}",
                got=describe(outcomes),
                hint=hint_for(outcome.raised),
            )


def expect_bools(outcomes: Sequence[Outcome]) -> None:
    """Every call returned a bool, as the README documents for allow(), release() and fenced_write()."""
    for outcome in outcomes:
        if not isinstance(outcome.value, bool):
            fail(
                f"{outcome.call} returned {type(outcome.value).__name__}, not a bool",
                got=repr(outcome.value),
                hint="return True or False, not 1 or 0 or a reply from Redis",
            )


def describe(outcomes: Sequence[Outcome]) -> str:
    return "\n".join(str(outcome) for outcome in outcomes)
