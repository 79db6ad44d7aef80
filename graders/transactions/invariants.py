"""The invariants the grader checks with its own connection once the calls are over."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from bankcheck import Bank
from labkit.checks import fail
from labkit.pool import Outcome


def expected_balances(opening: Mapping[int, int], outcomes: Sequence[Outcome]) -> dict[int, int]:
    """The balances after every transfer that returned, and none that raised."""
    balances = dict(opening)
    for outcome in outcomes:
        if outcome.returned and outcome.call.function == "transfer":
            source, target, amount, _key = outcome.call.args
            balances[source] -= amount
            balances[target] += amount
    return balances


def expect_balances(bank: Bank, expected: Mapping[int, int], invariant: str, hint: str) -> None:
    """Every balance as expected; the message leads with the total when money appeared or vanished, then lists
    each account that is off."""
    actual = bank.db.balances()
    wrong = [account for account in sorted(expected) if actual.get(account) != expected[account]]
    if not wrong:
        return
    lines = [f"account {account}: expected {expected[account]} cents, found {actual.get(account)}" for account in wrong]
    total, found = sum(expected.values()), sum(actual.values())
    if total != found:
        lines.insert(0, f"expected {total} cents in total, found {found}")
    fail(f"{invariant}:\n" + "\n".join(lines), hint=hint or None)


def expect_ledger(bank: Bank, outcomes: Sequence[Outcome]) -> None:
    """One transfers row per idempotency key that succeeded, and each returned id names that row."""
    rows = {row.id: row for row in bank.db.transfers()}
    for outcome in outcomes:
        if not outcome.returned or outcome.call.function != "transfer":
            continue
        row = rows.get(outcome.value)
        if row is None or (row.from_id, row.to_id, row.amount_cents, row.idempotency_key) != outcome.call.args:
            fail(
                f"{outcome.call} returned an id that is not the id of its row in the transfers table",
                got=f"returned {outcome.value!r}; that row: {row}",
                hint="return the id of the transfers row you inserted (INSERT ... RETURNING id)",
            )
    succeeded = {o.call.args[3] for o in outcomes if o.returned and o.call.function == "transfer"}
    per_key = Counter(row.idempotency_key for row in rows.values())
    for key in sorted(per_key):
        if key not in succeeded:
            fail(
                f"the transfers table has a row for key {key!r}, whose transfer raised",
                hint="a transfer that raises must leave nothing behind: insert its row in the same transaction",
            )
    for key in sorted(succeeded):
        if per_key[key] != 1:
            fail(
                f"the transfers table has {per_key[key]} rows for key {key!r}; every transfer that succeeded has "
                "exactly one",
                hint="insert one transfers row per transfer, in the transaction that moves the money",
            )
