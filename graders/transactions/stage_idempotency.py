"""Stage 8: a transfer repeated with the same idempotency key applies once, even when the repeats race."""

from collections import Counter

from invariants import expect_balances
from labkit.checks import expect, expect_equal, fail
from labkit.pool import call

UNIQUE_HINT = (
    "add a UNIQUE constraint on transfers (idempotency_key) in migrate(); when the key exists, return that "
    "transfer's id instead of moving money again"
)


def check_repeated_transfer_applies_once(bank):
    """The same transfer sent twice with one key moves money once and returns the same id"""
    bank.db.open_accounts({1: 10_000, 2: 0})
    first = bank.returns("transfer", 1, 2, 500, "pay-1")
    again = bank.returns("transfer", 1, 2, 500, "pay-1")
    expect_balances(bank, {1: 9_500, 2: 500}, "a repeated request was applied again", UNIQUE_HINT)
    expect(again == first, "the repeated transfer returned another id than the first", hint=UNIQUE_HINT)
    expect_equal(len(bank.db.transfers()), 1, "rows in the transfers table after one transfer sent twice")
    from_elsewhere = bank.returns("transfer", 1, 2, 500, "pay-1", process=1)
    expect(
        from_elsewhere == first,
        "the same transfer repeated from another process returned another id than the first",
        hint="look the key up in the database, where every process's transfers are, not in your process's memory",
    )
    expect_balances(bank, {1: 9_500, 2: 500}, "a request repeated from another process was applied again", UNIQUE_HINT)
    other = bank.returns("transfer", 1, 2, 500, "pay-2")
    expect(other != first, "a transfer with a new key returned the id of an earlier one", hint=UNIQUE_HINT)
    expect_balances(bank, {1: 9_000, 2: 1_000}, "a transfer with a new key", "a new key is a new transfer")


REUSES = {"amount_cents": (1, 2, 700), "to_id": (1, 3, 500), "from_id": (3, 2, 500)}  # differs in: arguments


def check_key_reused_with_other_arguments_is_refused(bank):
    """A key reused with a different amount, destination or source raises IdempotencyKeyReused"""
    bank.db.open_accounts({1: 10_000, 2: 0, 3: 10_000})
    bank.returns("transfer", 1, 2, 500, "pay-1")
    for differs, arguments in REUSES.items():
        bank.raises(
            "IdempotencyKeyReused",
            "transfer",
            *arguments,
            "pay-1",
            hint=f"only {differs} differs from the stored transfer's: compare from_id, to_id and amount_cents "
            "with the call's; any difference raises IdempotencyKeyReused",
        )
        bank.expect_no_open_transactions(after="transfer() raised IdempotencyKeyReused")
    expect_balances(bank, {1: 9_500, 2: 500, 3: 10_000}, "a refused request moved money", UNIQUE_HINT)


def check_repeat_is_answered_when_the_balance_no_longer_covers_it(bank):
    """A repeated transfer returns its id even after it emptied the account"""
    bank.db.open_accounts({1: 500, 2: 0})
    first = bank.returns("transfer", 1, 2, 500, "pay-all")
    again = bank.outcome("transfer", 1, 2, 500, "pay-all")
    if again.raised == "InsufficientFunds":
        fail(
            "transfer(1, 2, 500, 'pay-all') repeated after it emptied account 1 raised InsufficientFunds; a "
            "repeated request returns the id of the transfer it repeats, whatever the balance now",
            hint="look the idempotency key up before you check the balance",
        )
    bank.expect_answers([again])
    expect(again.value == first, "the repeated transfer returned another id than the first", hint=UNIQUE_HINT)
    expect_balances(bank, {1: 0, 2: 500}, "a repeated request was applied again", UNIQUE_HINT)


def check_refused_transfer_leaves_its_key_free(bank):
    """A key whose transfer raised InsufficientFunds can be used again"""
    bank.db.open_accounts({1: 100, 2: 0})
    bank.raises("InsufficientFunds", "transfer", 1, 2, 500, "later", hint="the balance was 100 cents")
    bank.db.add_funds(1, 400)
    bank.returns("transfer", 1, 2, 500, "later")
    expect_balances(
        bank,
        {1: 0, 2: 500},
        "the retried transfer did not apply",
        "a transfer that raised leaves nothing behind, not even its key: record the key in the same transaction",
    )


RACES = {"race-a": (1, 2), "race-b": (3, 4)}  # key: (from, to); four identical requests each
AMOUNT = 250


def check_racing_repeats_apply_once(bank):
    """Four identical requests racing with one key move money once"""
    opening = {account: 10_000 for pair in RACES.values() for account in pair}
    bank.db.open_accounts(opening)
    calls = [call("transfer", *pair, AMOUNT, key) for key, pair in RACES.items() for _ in range(4)]
    outcomes = bank.race(calls, accounts=opening)
    bank.expect_answers(outcomes)
    rows = Counter(row.idempotency_key for row in bank.db.transfers())
    for key, (source, _) in RACES.items():
        if rows[key] != 1:
            fail(
                f"idempotency key {key!r} was applied {rows[key]} times: the transfers table has {rows[key]} rows "
                f"for it and account {source} paid {rows[key]} x {AMOUNT} cents",
                hint="checking for the key and then inserting is a race between the repeats: "
                "let a UNIQUE constraint decide (INSERT ... ON CONFLICT (idempotency_key) DO NOTHING)",
            )
        ids = {o.value for o in outcomes if o.call.args[3] == key}
        if len(ids) != 1:
            fail(f"the four requests with key {key!r} returned {len(ids)} different ids", hint=UNIQUE_HINT)
    expected = dict(opening)
    for source, target in RACES.values():
        expected[source] -= AMOUNT
        expected[target] += AMOUNT
    expect_balances(bank, expected, "racing repeats moved money more than once", UNIQUE_HINT)
