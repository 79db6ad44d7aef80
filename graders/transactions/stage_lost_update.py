"""Stage 2: transfers racing for the same account all count.

The grader holds row locks on every account involved while the calls start, so each call does its unlocked
reads and then waits; releasing the locks at once makes every read-modify-write overlap every time.
"""

from invariants import expect_balances, expect_ledger, expected_balances
from labkit.pool import call
from verdicts import expect_int_ids

AMOUNT = 250
HINT = (
    "a balance read into Python and written back overwrites every update that committed in between: let "
    "PostgreSQL do the arithmetic (SET balance_cents = balance_cents + %s) or lock the rows first "
    "(SELECT ... FOR UPDATE)"
)


def check_transfers_into_one_account_all_count(bank):
    """Four transfers racing into the same account all count"""
    opening = {100: 0, 200: 0} | {source: 10_000 for source in range(1, 9)}
    bank.db.open_accounts(opening)
    calls = [call("transfer", source, 100 if source <= 4 else 200, AMOUNT, f"in-{source}") for source in range(1, 9)]
    outcomes = bank.race(calls, accounts=opening)
    bank.expect_answers(outcomes)
    expect_int_ids(outcomes, "transfer id")
    expected = expected_balances(opening, outcomes)
    lost = sum(expected.values()) - sum(bank.db.balances().values())
    expect_balances(bank, expected, f"lost update ({lost // AMOUNT} deposits of {AMOUNT} cents lost)", HINT)
    expect_ledger(bank, outcomes)


def check_transfers_out_of_one_account_all_count(bank):
    """Four transfers racing out of the same account all count"""
    opening = {1: 10_000, 2: 10_000} | {target: 0 for target in (11, 12, 13, 14, 21, 22, 23, 24)}
    bank.db.open_accounts(opening)
    calls = [call("transfer", 1, target, AMOUNT, f"out-{target}") for target in (11, 12, 13, 14)]
    calls += [call("transfer", 2, target, AMOUNT, f"out-{target}") for target in (21, 22, 23, 24)]
    outcomes = bank.race(calls, accounts=opening)
    bank.expect_answers(outcomes)
    expect_int_ids(outcomes, "transfer id")
    expected = expected_balances(opening, outcomes)
    created = sum(bank.db.balances().values()) - sum(expected.values())
    expect_balances(bank, expected, f"lost update ({created // AMOUNT} debits of {AMOUNT} cents lost)", HINT)
    expect_ledger(bank, outcomes)
