"""Stage 7: operations that PostgreSQL aborts with 40001 or 40P01 are retried, with backoff, and not forever.

The grader's triggers make chosen operations fail their first attempts as a busy server would: 40001 at a
statement, 40P01 at a statement, 40001 at COMMIT, 40001 again; the fifth attempt goes through. Each attempt is
counted and timed in sequences, which a rolled-back transaction cannot undo.
"""

import time

from invariants import expect_balances, expect_ledger, expected_balances
from labkit.checks import expect_equal, fail
from labkit.pool import Call, call
from labkit.wait import until

FAILURES = 4
MIN_ATTEMPTS, MAX_ATTEMPTS = 5, 8
FIRST_BACKOFF_MS = 10  # at least, before retry 1; doubling before each further retry
CLOCK_SLACK_US = 1_000
SLEEP_BUDGET_MS = 2_000  # of sleep across the retries of one call
# What an attempt that fails at once may add to the sleeps between attempt starts: generous, for a loaded machine.
ATTEMPT_ALLOWANCE_MS = 300 + 100 * (MAX_ATTEMPTS - 1)
CALL_TIMEOUT_S = 5.0
GIVE_UP_TIMEOUT_S = 6.0

RETRY_HINT = (
    "catch psycopg.errors.SerializationFailure and DeadlockDetected (SQLSTATE 40001 and 40P01) around the whole "
    "transaction, COMMIT included, and run it again from the start after a short, growing sleep"
)
ROLLBACK_HINT = "a failed attempt must leave nothing behind: retry the whole transaction, after rolling it back"
RETRY_HINTS = {"SerializationFailure": RETRY_HINT, "DeadlockDetected": RETRY_HINT}


def check_conflicts_are_retried_until_applied(bank):
    """Transfers, bookings and going off call are retried until they apply"""
    opening = {source: 10_000 for source in (1, 2, 3, 4)} | {target: 0 for target in (11, 12, 13, 14)}
    bank.db.open_accounts(opening)
    bank.db.add_seats(1, ["A1", "A2"])
    bank.db.staff_shift(1, on_call=[11, 12, 13])
    bank.db.staff_shift(2, on_call=[21, 22])
    planned = [(f"transfer:retry-{n}", call("transfer", n, 10 + n, 100 * n, f"retry-{n}")) for n in (1, 2, 3, 4)]
    planned += [(f"booking:1/{seat}", call("book_seat", 1, seat, user)) for seat, user in (("A1", 5), ("A2", 6))]
    planned += [("off-call:1/11", call("go_off_call", 11, 1)), ("off-call:2/21", call("go_off_call", 21, 2))]
    for slot, (target, _) in enumerate(planned, start=1):
        bank.db.plan_failures(target, slot, FAILURES)
    outcomes = bank.together([what for _, what in planned], within=CALL_TIMEOUT_S)
    bank.expect_answers(outcomes, hints=RETRY_HINTS)
    expect_balances(
        bank, expected_balances(opening, outcomes), "retried transfers moved the wrong amounts", ROLLBACK_HINT
    )
    expect_ledger(bank, outcomes)
    booked = sorted((b.seat, b.user_id) for b in bank.db.bookings())
    expect_equal(booked, [("A1", 5), ("A2", 6)], "(seat, user) of the bookings after retried book_seat() calls")
    expect_equal(bank.db.doctors_on_call(1), [12, 13], "doctors on call for shift 1 after a retried go_off_call()")
    expect_equal(bank.db.doctors_on_call(2), [22], "doctors on call for shift 2 after a retried go_off_call()")


def check_retries_back_off(bank):
    """Retries wait at least 10, 20, 40 and 80 ms"""
    opening = {source: 10_000 for source in (1, 2, 3, 4)} | {target: 0 for target in (11, 12, 13, 14)}
    bank.db.open_accounts(opening)
    calls = [call("transfer", n, 10 + n, 100, f"backoff-{n}") for n in (1, 2, 3, 4)]
    for slot, what in enumerate(calls, start=1):
        bank.db.plan_failures(f"transfer:{what.args[3]}", slot, FAILURES)
    outcomes = bank.together(calls, within=CALL_TIMEOUT_S)
    bank.expect_answers(outcomes, hints=RETRY_HINTS)
    expect_backoff({what: bank.db.attempt_times_us(slot) for slot, what in enumerate(calls, start=1)})
    expect_balances(
        bank, expected_balances(opening, outcomes), "retried transfers moved the wrong amounts", ROLLBACK_HINT
    )


def check_retries_give_up(bank):
    """A transaction that keeps failing is re-raised after 5 to 8 attempts"""
    bank.db.open_accounts({1: 10_000, 2: 0})
    bank.db.plan_failures("transfer:doomed", 1, -1)
    doomed = call("transfer", 1, 2, 100, "doomed")
    with bank.pool.start([doomed]) as batch:
        deadline = time.monotonic() + GIVE_UP_TIMEOUT_S
        until(lambda: batch.finished() or bank.db.attempts(1) > MAX_ATTEMPTS, GIVE_UP_TIMEOUT_S, interval=0.02)
        if not batch.finished() and bank.db.attempts(1) > MAX_ATTEMPTS:
            fail(
                f"{doomed} kept retrying: more than {MAX_ATTEMPTS} attempts, every one failed with 40001",
                hint=f"stop after {MAX_ATTEMPTS} attempts at most and re-raise the last error: a conflict that "
                "persists is somebody else's to see",
            )
        (outcome,) = batch.outcomes(within=max(0.0, deadline - time.monotonic()))
    attempts = bank.db.attempts(1)
    started = bank.db.attempt_times_us(1)
    if outcome.failure is not None:
        fail(
            f"{doomed} did not give up within {GIVE_UP_TIMEOUT_S:g} s",
            hint="sleep at most 2 s in total across the retries of one call, then re-raise",
        )
    if outcome.returned:
        fail(f"{doomed} returned {outcome.value!r} although every attempt failed with 40001")
    if attempts < MIN_ATTEMPTS:
        fail(
            f"{doomed} gave up after {attempts} attempt(s); make at least {MIN_ATTEMPTS} before re-raising",
            hint=RETRY_HINT,
        )
    if outcome.raised != "SerializationFailure":
        fail(
            f"after {attempts} failed attempts, {doomed} raised {outcome.raised}: {outcome.text}",
            hint="re-raise the last error itself (psycopg.errors.SerializationFailure), not another exception",
        )
    expect_backoff({doomed: started})
    between_ms = (started[-1] - started[0]) / 1000
    if between_ms > SLEEP_BUDGET_MS + ATTEMPT_ALLOWANCE_MS:
        fail(
            f"{doomed} spent more than {SLEEP_BUDGET_MS + ATTEMPT_ALLOWANCE_MS} ms between the start of its first "
            f"and of its last attempt; the sleeps across the retries of one call may add up to {SLEEP_BUDGET_MS} ms "
            "at most",
            got=f"{between_ms:.0f} ms over {len(started)} attempts",
            hint="keep the sum of the backoff sleeps of one call within 2 s: 10 ms doubling over at most 7 retries "
            "is 1270 ms, which leaves room for jitter",
        )
    expect_balances(bank, {1: 10_000, 2: 0}, "a transfer that never committed moved money", ROLLBACK_HINT)
    expect_equal(bank.db.transfers(), [], "the transfers table after a transfer that never committed")
    bank.expect_no_open_transactions(after="the transfer gave up")


def check_refusals_are_not_retried(bank):
    """InsufficientFunds, SeatTaken and MustStayOnCall are raised at the first attempt, not retried"""
    bank.db.open_accounts({1: 300, 2: 0})
    bank.db.add_seats(1, ["A1"])
    bank.db.staff_shift(1, on_call=[11], off_call=[12])
    bank.returns("book_seat", 1, "A1", 10)
    refusals = [
        ("InsufficientFunds", "transfer:too-much", call("transfer", 1, 2, 500, "too-much")),
        ("SeatTaken", "booking:1/A1", call("book_seat", 1, "A1", 11)),
        ("MustStayOnCall", "off-call:1/11", call("go_off_call", 11, 1)),
    ]
    for slot, (_, target, _) in enumerate(refusals, start=1):
        bank.db.plan_failures(target, slot, 0)  # counts the attempts that reach the write, fails none
    for slot, (expected, _, what) in enumerate(refusals, start=1):
        bank.raises(expected, what.function, *what.args, hint=f"{what} must raise {expected}")
        attempts = bank.db.attempts(slot)
        if attempts > 1:
            fail(
                f"{what} raised {expected} after {attempts} attempts: only 40001 and 40P01 are retried, never your "
                "own exceptions or other errors",
                hint="catch exactly psycopg.errors.SerializationFailure and DeadlockDetected around the retried "
                "transaction, and let everything else through at once",
            )
    bank.expect_no_open_transactions(after="the refusals")


def expect_backoff(attempt_starts: dict[Call, list[int]]) -> None:
    """Before retry n, at least FIRST_BACKOFF_MS * 2^(n-1) between the starts of attempts n and n + 1."""
    too_soon = []
    for what, started in attempt_starts.items():
        for retry in range(1, len(started)):
            gap_us = started[retry] - started[retry - 1]
            if gap_us + CLOCK_SLACK_US < backoff_ms(retry) * 1000:
                too_soon.append(
                    f"{what}: retry {retry} began {gap_us / 1000:.1f} ms after attempt {retry} began; at least "
                    f"{backoff_ms(retry)} ms"
                )
    if too_soon:
        fail(
            "retries began too soon after the attempts that failed: the waits must be at least "
            f"{', '.join(str(backoff_ms(n)) for n in range(1, MAX_ATTEMPTS))} ms",
            got="\n".join(too_soon),
            hint=f"sleep before each retry: at least {FIRST_BACKOFF_MS} ms before the first, doubling each time "
            "(also past the fourth retry), plus random jitter, so that conflicting callers stop colliding",
        )


def backoff_ms(retry: int) -> int:
    return int(FIRST_BACKOFF_MS) << (retry - 1)
