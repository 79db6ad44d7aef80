"""Stage 5: at least one doctor stays on call, even when all of them ask to go off call at once.

Each doctor going off call updates a different row, so locks on those rows never conflict: preventing write
skew means locking what the decision reads (the shift), or SERIALIZABLE.
"""

from labkit.checks import expect_equal, fail
from labkit.pool import call

LAST_HINT = "count the doctors on call for the shift; if this one is the last, raise MustStayOnCall"
SKEW_HINT = (
    "each transaction saw another doctor still on call, and both went off: lock the shift row "
    "(SELECT ... FROM shifts WHERE id = %s FOR UPDATE) before counting, or run at SERIALIZABLE and retry on 40001"
)


def check_last_doctor_must_stay(bank):
    """The last doctor on call raises MustStayOnCall"""
    bank.db.staff_shift(1, on_call=[11, 12], off_call=[13])
    bank.returns("go_off_call", 11, 1)
    expect_equal(bank.db.doctors_on_call(1), [12], "doctors on call for shift 1 after doctor 11 went off")
    bank.raises("MustStayOnCall", "go_off_call", 12, 1, hint=LAST_HINT)
    bank.expect_no_open_transactions(after="go_off_call() raised MustStayOnCall")
    expect_equal(bank.db.doctors_on_call(1), [12], "doctors on call for shift 1 after doctor 12 was refused")


SHIFTS = {1: (11, 12), 2: (21, 22), 3: (31, 32, 33, 34)}  # shift: doctors on call, all asking to go off


def check_concurrent_requests_leave_someone_on_call(bank):
    """Every doctor of a shift asking to go off call at once: exactly one stays"""
    for shift, doctors in SHIFTS.items():
        bank.db.staff_shift(shift, on_call=doctors, off_call=[shift * 10 + 9])
    calls = [call("go_off_call", doctor, shift) for shift, doctors in SHIFTS.items() for doctor in doctors]
    outcomes = bank.race(calls, shifts=SHIFTS)
    bank.expect_answers(outcomes, allowed={"MustStayOnCall"})
    for shift, doctors in SHIFTS.items():
        on_call = bank.db.doctors_on_call(shift)
        if not on_call:
            fail(
                f"write skew: shift {shift} has nobody on call after its {len(doctors)} doctors asked to go off "
                "call at the same time; at least one must stay",
                hint=SKEW_HINT,
            )
        went_off = [o for o in outcomes if o.returned and o.call.args[1] == shift]
        if len(went_off) != len(doctors) - 1 or len(on_call) != 1:
            fail(
                f"{len(went_off)} of the {len(doctors)} doctors of shift {shift} went off call and "
                f"{len(on_call)} stayed; exactly one must stay and the others go off",
                hint="decide on the count as it is once you hold the lock, not as it was before you waited",
            )
    bank.expect_no_open_transactions(after="the calls returned")
