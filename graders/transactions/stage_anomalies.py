"""Stage 1: before preventing anomalies, make two of them happen on purpose, and let the grader verify they did.

The grader's trigger records every committed update with its transaction, connection and isolation level, so a
demonstration is judged by what reached the database, not by what it reports.
"""

from bankcheck import Bank
from bankdb import Write
from labkit.checks import fail

ACCOUNT, START, DEPOSIT = 1, 10_000, 2_500
SHIFT, DOCTORS, ALREADY_OFF = 7, (71, 72), (70, 73)
# Another shift whose doctors on call sort before shift 7's, and an off-call doctor of shift 7 with the lowest id:
# "the on-call doctor with the lowest doctor_id" of *this* shift is neither of them.
OTHER_SHIFT, OTHER_DOCTORS = 6, (61, 62)

HANG_HINT = (
    "the second transaction waited for a row lock the first still held, and the first could not commit because "
    "your one thread was waiting: commit the first transaction before the second one writes"
)


def check_lost_update_at_read_committed(bank):
    """demonstrate_lost_update() makes two committed deposits count as one"""
    bank.db.open_accounts({ACCOUNT: START, 2: 5_000})
    report = demonstration(
        bank,
        "demonstrate_lost_update",
        ACCOUNT,
        DEPOSIT,
        serializable_hint="at REPEATABLE READ and SERIALIZABLE PostgreSQL refuses the second write (that is the "
        "protection); this demonstration runs at READ COMMITTED, the default",
    )
    writes = [write for write in bank.db.writes("account") if write.row_key == str(ACCOUNT)]
    expect_two_transactions(writes, "read committed", f"the balance of account {ACCOUNT}")
    final = bank.db.balances()[ACCOUNT]
    if final == START + 2 * DEPOSIT:
        fail(
            f"no update was lost: account {ACCOUNT} went from {START} to {final} cents, both deposits of "
            f"{DEPOSIT} counted",
            hint="read the balance in both transactions before either writes, then write the value computed in "
            "Python (SET balance_cents = %s), not balance_cents + %s",
        )
    if final != START + DEPOSIT:
        fail(
            f"account {ACCOUNT} holds {final} cents; after a lost update it should hold {START + DEPOSIT} "
            f"({START} + one deposit of {DEPOSIT}, the other lost)",
            hint="each transaction writes the balance it read plus the deposit",
        )
    written = [write.new_value for write in writes]
    if written != [START + DEPOSIT] * 2:
        fail(
            f"the two transactions set the balance of account {ACCOUNT} to {written[0]} and then {written[1]}; "
            f"each must set it to the {START} cents it read plus the deposit of {DEPOSIT}",
            hint="each transaction writes the balance it read plus amount_cents, computed in Python",
        )
    expect_report(
        report,
        "demonstrate_lost_update",
        {"first_read": START, "second_read": START, "final_balance": START + DEPOSIT},
    )
    bank.expect_no_open_transactions(after="demonstrate_lost_update()")


def check_write_skew_at_repeatable_read(bank):
    """demonstrate_write_skew() leaves a shift with nobody on call"""
    bank.db.staff_shift(OTHER_SHIFT, on_call=OTHER_DOCTORS)
    bank.db.staff_shift(SHIFT, on_call=DOCTORS, off_call=ALREADY_OFF)
    report = demonstration(
        bank,
        "demonstrate_write_skew",
        SHIFT,
        serializable_hint="SERIALIZABLE prevents write skew (you will use that later); this demonstration runs at "
        "REPEATABLE READ, to show that a snapshot alone does not",
    )
    writes = bank.db.writes("on_call")
    expect_two_transactions(writes, "repeatable read", f"the on-call flags of shift {SHIFT}")
    doctors = sorted(write.row_key for write in writes)
    if doctors != [f"{SHIFT}/{doctor}" for doctor in DOCTORS] or any(write.new_value for write in writes):
        fail(
            f"each transaction must take a different doctor of shift {SHIFT} off call ({DOCTORS[0]} and "
            f"{DOCTORS[1]}); the grader saw updates of {', '.join(doctors)}",
            hint="the first transaction sets on_call = false for the doctor of this shift with the lowest id "
            "among those on call, the second for the other one (other shifts and off-call doctors are not "
            "candidates)",
        )
    still_on_call = bank.db.doctors_on_call(SHIFT)
    if still_on_call:
        fail(
            f"doctor {still_on_call[0]} is still on call for shift {SHIFT}: the write skew did not happen",
            hint="both transactions count the doctors on call first (both see 2), then each updates its doctor",
        )
    if (others := bank.db.doctors_on_call(OTHER_SHIFT)) != list(OTHER_DOCTORS):
        fail(
            f"shift {OTHER_SHIFT}'s doctors on call changed to {others}: demonstrate_write_skew({SHIFT}) touches "
            f"shift {SHIFT} only",
            hint="every query and update of the demonstration filters on the shift_id it was given",
        )
    expect_report(report, "demonstrate_write_skew", {"first_count": 2, "second_count": 2, "on_call_after": 0})
    bank.expect_no_open_transactions(after="demonstrate_write_skew()")


def demonstration(bank: Bank, function: str, *args: object, serializable_hint: str) -> object:
    outcome = bank.outcome(function, *args)
    if outcome.failure is not None:
        fail(outcome.failure.message, hint=HANG_HINT if outcome.hung else outcome.failure.hint)
    if outcome.raised == "SerializationFailure":
        fail(f"your {function}() raised SerializationFailure: {outcome.text}", hint=serializable_hint)
    bank.expect_answers([outcome])
    return outcome.value


def expect_two_transactions(writes: list[Write], isolation: str, what: str) -> None:
    if len(writes) != 2:
        fail(
            f"the grader saw {len(writes)} committed update(s) of {what}; the demonstration needs exactly two, "
            "one in each transaction",
            hint="commit both transactions; each updates the row once",
        )
    first, second = writes
    if first.backend == second.backend:
        fail(
            f"both updates of {what} came from the same connection",
            hint="open two connections: two transactions can only interleave on two connections",
        )
    if first.txid == second.txid:
        fail(f"both updates of {what} were made by one transaction", hint="commit each connection's transaction")
    for write in writes:
        if write.isolation != isolation:
            fail(
                f"a transaction updated {what} at {write.isolation.upper()}; this demonstration is about "
                f"{isolation.upper()}",
                hint=f"start both transactions at {isolation.upper()}",
            )


def expect_report(report: object, function: str, expected: dict[str, int]) -> None:
    if not isinstance(report, dict) or sorted(report) != sorted(expected):
        fail(
            f"your {function}() must return a dict with the keys {', '.join(expected)}",
            got=repr(report),
        )
    for key, value in expected.items():
        if report[key] != value:
            fail(
                f"your {function}() reported {key} = {report[key]!r}; the grader expected {value}",
                hint="report what each transaction actually read, and the final value read after both committed",
            )
