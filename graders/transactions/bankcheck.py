"""What a check holds: the database as the grader sees it, and the learner's functions in the driver processes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bankdb import BankDatabase
from labkit.checks import fail
from labkit.pool import Call, DriverPool, Outcome, expect_answers
from verdicts import HINTS, OPEN_TRANSACTION_HINT

CALL_TIMEOUT_S = 4.0
LINE_UP_WAIT_S = 5.0  # a call that never waits for a lock within this time cannot be lined up anyway


class Bank:
    def __init__(self, db: BankDatabase, pool: DriverPool) -> None:
        self.db = db
        self.pool = pool

    # -- one call at a time, always in the same process (so a connection left in a bad state shows) ------------

    def outcome(self, function: str, *args: Any, timeout: float = CALL_TIMEOUT_S, process: int = 0) -> Outcome:
        return self.pool.outcome(process, Call(function, args), within=timeout)

    def returns(self, function: str, *args: Any, timeout: float = CALL_TIMEOUT_S, process: int = 0) -> Any:
        """The value ``function(*args)`` returned (in driver ``process``); anything else fails the check."""
        outcome = self.outcome(function, *args, timeout=timeout, process=process)
        self.expect_answers([outcome])
        return outcome.value

    def raises(self, expected: str, function: str, *args: Any, hint: str) -> None:
        """``function(*args)`` must raise the learner's exception class named ``expected``."""
        outcome = self.outcome(function, *args)
        if outcome.returned:
            fail(f"{outcome.call} returned instead of raising {expected}", got=repr(outcome.value), hint=hint)
        self.expect_answers([outcome], allowed={expected})

    # -- several at once ---------------------------------------------------------------------------------

    def race(
        self,
        calls: Sequence[Call],
        *,
        accounts: Iterable[int] = (),
        seats: Iterable[tuple[int, str]] = (),
        shifts: Iterable[int] = (),
        accounts_in_turn: Sequence[Iterable[int]] = (),
    ) -> list[Outcome]:
        """Runs ``calls`` at once, lined up behind row locks the grader holds on the given rows, and returns what
        each did. With ``accounts_in_turn``, each group of accounts is held in its own transaction and the
        groups are released one by one, each once every call is blocked again (see ``gate.RowLocks``)."""
        gate = self.db.row_locks(accounts=accounts, seats=seats, shifts=shifts, accounts_in_turn=accounts_in_turn)
        return self.pool.run(calls, gate=gate, within=CALL_TIMEOUT_S, gate_wait=LINE_UP_WAIT_S)

    def together(self, calls: Sequence[Call], within: float = CALL_TIMEOUT_S) -> list[Outcome]:
        """Runs ``calls`` at once, without lining them up; each must return ``within`` seconds."""
        return self.pool.run(calls, within=within)

    # -- expectations every check needs ------------------------------------------------------------------

    def expect_answers(
        self, outcomes: Sequence[Outcome], allowed: Iterable[str] = (), hints: Mapping[str, str] | None = None
    ) -> None:
        """Every call answered and raised only documented exceptions (``allowed``); ``hints`` overrides the
        usual advice for an exception in this check's situation. A connection left idle inside a transaction
        is the usual reason why a call waited forever, so a call that did not answer names it."""
        stuck = next((outcome for outcome in outcomes if outcome.failure is not None), None)
        if stuck is not None and stuck.failure is not None and self.db.open_transactions():
            fail(
                f"{stuck.failure.message}\nmeanwhile a connection of yours sat idle inside an open transaction, "
                "holding locks that the other calls waited for",
                got=str(stuck.call),
                hint=OPEN_TRANSACTION_HINT,
            )
        expect_answers(outcomes, set(allowed), {**HINTS, **(hints or {})})

    def expect_no_open_transactions(self, after: str) -> None:
        if self.db.open_transactions():
            fail(
                f"after {after}, a connection of yours was still inside a transaction (idle in transaction): "
                "it keeps its locks and its snapshot until something ends it",
                hint=OPEN_TRANSACTION_HINT,
            )
