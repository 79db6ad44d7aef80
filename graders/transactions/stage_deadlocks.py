"""Stage 6: transfers between the same accounts in opposite directions all finish, and none fails.

The grader releases the first account of each pair (or of each cycle) first: a transfer that locks in argument
order takes it and queues for its second account behind the transfer that starts there, which then needs the
first. In ascending id order, both queue for the same first account and nothing can go round in a circle.
"""

from invariants import expect_balances, expect_ledger, expected_balances
from labkit.pool import call

HINT = (
    "transfers that lock their accounts in argument order deadlock when they run in opposite directions: lock "
    "both accounts in ascending id order (SELECT ... WHERE id = ANY(%s) ORDER BY id FOR UPDATE), or retry on 40P01"
)


def check_opposite_transfers_finish(bank):
    """Transfers in opposite directions between the same two accounts all finish"""
    pairs = [(1, 2), (3, 4), (5, 6), (7, 8)]
    opening = {account: 10_000 for pair in pairs for account in pair}
    bank.db.open_accounts(opening)
    calls = []
    for a, b in pairs:
        calls += [call("transfer", a, b, 100, f"{a}-to-{b}"), call("transfer", b, a, 150, f"{b}-to-{a}")]
    outcomes = bank.race(calls, accounts_in_turn=[[a for a, _ in pairs], [b for _, b in pairs]])
    bank.expect_answers(outcomes)
    expect_balances(bank, expected_balances(opening, outcomes), "money went missing", HINT)
    expect_ledger(bank, outcomes)


def check_cycle_of_three_finishes(bank):
    """Transfers around a cycle of three accounts all finish"""
    cycles = [(1, 2, 3), (4, 5, 6)]
    opening = {account: 10_000 for cycle in cycles for account in cycle}
    bank.db.open_accounts(opening)
    calls = [
        call("transfer", cycle[n], cycle[(n + 1) % 3], 100 * (n + 1), f"{cycle[n]}-to-{cycle[(n + 1) % 3]}")
        for cycle in cycles
        for n in range(3)
    ]
    outcomes = bank.race(calls, accounts_in_turn=[[cycle[n] for cycle in cycles] for n in range(3)])
    bank.expect_answers(outcomes)
    expect_balances(bank, expected_balances(opening, outcomes), "money went missing", HINT)
    expect_ledger(bank, outcomes)
