"""What this lab adds to ``labkit.pool.expect_answers``: the usual cause of each exception a learner meets on
PostgreSQL, and the rule that an inserted row's id comes back as an int."""

from __future__ import annotations

from collections.abc import Sequence

from labkit.checks import fail
from labkit.pool import Outcome

# Exceptions a learner meets in this lab, from psycopg.errors or their own code, with the usual cause.
HINTS = {
    "DeadlockDetected": "two transactions locked the same rows in opposite orders: lock rows in one global order "
    "(for example SELECT ... ORDER BY id FOR UPDATE on both accounts), or retry the transaction on 40P01",
    "SerializationFailure": "PostgreSQL aborted the transaction to keep it serializable (40001): catch it and run "
    "the whole transaction again, with backoff",
    "InFailedSqlTransaction": "an earlier error left the transaction aborted and nobody rolled it back: use "
    "`with conn.transaction():` (or roll back in an except block) so an error ends the transaction",
    "UniqueViolation": "a unique constraint did its job; turn the violation into the documented outcome (SeatTaken, "
    "or the existing transfer for a repeated idempotency key), e.g. with INSERT ... ON CONFLICT DO NOTHING",
    "CheckViolation": "a CHECK constraint refused the write; check the balance yourself (under a lock) and raise "
    "InsufficientFunds",
    "ForeignKeyViolation": "the grader only passes ids of rows that exist; look at which columns you insert",
    "LockNotAvailable": "a lock wait gave up (NOWAIT or lock_timeout); the spec expects calls to wait their turn",
    "QueryCanceled": "a statement_timeout cancelled a statement; calls must wait their turn, not give up",
    "OperationalError": "the connection failed; read DATABASE_URL from the environment and keep the connection "
    "open for the life of the process",
    "NotImplementedError": "this function is still the starter's stub: implement it as the README describes",
}

OPEN_TRANSACTION_HINT = (
    "end the transaction on every path, including when you raise: `with conn.transaction():` commits on success "
    "and rolls back when an exception leaves the block"
)


def expect_int_ids(outcomes: Sequence[Outcome], what: str) -> None:
    for outcome in outcomes:
        if outcome.returned:
            expect_int_id(outcome.call.function, outcome.value, what)


def expect_int_id(function: str, value: object, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        fail(
            f"your {function}() returned {type(value).__name__}, not the {what} (an int)",
            got=repr(value),
            hint=f"return the id of the row you inserted (INSERT ... RETURNING id): the {what}",
        )
