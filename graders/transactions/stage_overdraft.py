"""Stage 3: no balance ever goes negative, and a refused transfer leaves nothing behind."""

from invariants import expect_balances, expect_ledger, expected_balances
from labkit.checks import expect, expect_equal, fail
from labkit.pool import call

INSUFFICIENT_HINT = "compare the balance with the amount and raise InsufficientFunds when it does not cover it"
OVERDRAFT_HINT = (
    "checking the balance and then debiting is two steps, and another transfer can debit in between: lock the row "
    "before you read it (SELECT ... FOR UPDATE), or debit only WHERE balance_cents >= amount and look at the row "
    "count"
)


def check_refused_transfer_changes_nothing(bank):
    """A transfer the balance cannot cover raises InsufficientFunds and changes nothing"""
    bank.db.open_accounts({1: 300, 2: 0})
    bank.raises("InsufficientFunds", "transfer", 1, 2, 500, "too-much", hint=INSUFFICIENT_HINT)
    bank.expect_no_open_transactions(after="transfer() raised InsufficientFunds")
    expect_balances(bank, {1: 300, 2: 0}, "a refused transfer moved money", INSUFFICIENT_HINT)
    expect(
        bank.db.transfers() == [],
        "a refused transfer left a row in the transfers table",
        hint="insert the transfers row in the same transaction as the balance updates, so raising rolls it back",
    )
    bank.returns("transfer", 1, 2, 300, "all-of-it")
    expect_balances(
        bank, {1: 0, 2: 300}, "a transfer of the whole balance", "a balance may reach exactly 0 cents, never below"
    )
    expect_equal(len(bank.db.transfers()), 1, "rows in the transfers table after one transfer")


GROUPS = {1: (1_000, 400, (11, 12, 13, 14)), 2: (900, 300, (21, 22, 23, 24))}  # source: balance, amount, targets


def check_concurrent_transfers_never_overdraw(bank):
    """Transfers racing out of one account never take it below zero"""
    opening = {source: balance for source, (balance, _, _) in GROUPS.items()}
    opening |= {target: 0 for _, _, targets in GROUPS.values() for target in targets}
    bank.db.open_accounts(opening)
    calls = [
        call("transfer", source, target, amount, f"pay-{target}")
        for source, (_, amount, targets) in GROUPS.items()
        for target in targets
    ]
    outcomes = bank.race(calls, accounts=opening)
    bank.expect_answers(outcomes, allowed={"InsufficientFunds"})
    balances = bank.db.balances()
    for source, (balance, amount, targets) in GROUPS.items():
        fit = balance // amount
        succeeded = sum(1 for o in outcomes if o.returned and o.call.args[0] == source)
        if balances[source] < 0:
            fail(
                f"overdraft: account {source} holds {balances[source]} cents after {succeeded} of "
                f"{len(targets)} concurrent transfers of {amount} succeeded from a balance of {balance} "
                f"(only {fit} fit)",
                hint=OVERDRAFT_HINT,
            )
        if succeeded != fit:
            fail(
                f"{succeeded} of {len(targets)} concurrent transfers of {amount} from a balance of {balance} "
                f"succeeded; exactly {fit} fit, the others must raise InsufficientFunds",
                hint="decide on the balance as it is once you hold the lock, not as it was before you waited",
            )
    expect_balances(bank, expected_balances(opening, outcomes), "money moved without a transfer", OVERDRAFT_HINT)
    expect_ledger(bank, outcomes)
    bank.expect_no_open_transactions(after="the transfers returned")
