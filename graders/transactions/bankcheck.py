"""What a check holds: the database as the grader sees it, and the learner's functions in the driver processes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bankdb import BankDatabase
from labkit import context
from labkit.checks import fail
from verdicts import OPEN_TRANSACTION_HINT, expect_answers
from workers import CALL_TIMEOUT_S, Batch, Call, Outcome, WorkerPool


class Bank:
    def __init__(self, db: BankDatabase, pool: WorkerPool) -> None:
        self.db = db
        self.pool = pool

    # -- one call at a time, always in the same process (so a connection left in a bad state shows) ------------

    def outcome(self, function: str, *args: Any, timeout: float = CALL_TIMEOUT_S) -> Outcome:
        return self.pool.outcome(0, Call(function, args), timeout)

    def returns(self, function: str, *args: Any, timeout: float = CALL_TIMEOUT_S) -> Any:
        """The value ``function(*args)`` returned; anything else fails the check."""
        outcome = self.outcome(function, *args, timeout=timeout)
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
        groups are released one by one, each once every call is blocked again (see ``gate.Gate``)."""
        gate = self.db.gate()
        try:
            gate.hold(accounts, seats, shifts)
            for group in accounts_in_turn:
                gate.hold(group)
            batch = Batch(self.pool, calls)
            self.db.wait_until_lined_up(len(calls), batch.finished)
            context.log(f"grader: {len(calls)} calls lined up behind the grader's row locks")
            while gate.holding:
                gate.release_next()
                if gate.holding:
                    self.db.wait_until_lined_up(len(calls), batch.finished)
        finally:
            gate.close()
        return batch.outcomes()

    def together(self, calls: Sequence[Call], within: float = CALL_TIMEOUT_S) -> list[Outcome]:
        """Runs ``calls`` at once, without lining them up; each must return ``within`` seconds."""
        return Batch(self.pool, calls).outcomes(within)

    # -- expectations every check needs ------------------------------------------------------------------

    def expect_answers(
        self, outcomes: Sequence[Outcome], allowed: Iterable[str] = (), hints: Mapping[str, str] | None = None
    ) -> None:
        """Every call answered and raised only documented exceptions (``allowed``); ``hints`` overrides the
        usual advice for an exception in this check's situation."""
        open_transactions = self.db.open_transactions() if any(o.failure for o in outcomes) else 0
        expect_answers(outcomes, set(allowed), open_transactions=open_transactions, hints=hints)

    def expect_no_open_transactions(self, after: str) -> None:
        if self.db.open_transactions():
            fail(
                f"after {after}, a connection of yours was still inside a transaction (idle in transaction): "
                "it keeps its locks and its snapshot until something ends it",
                hint=OPEN_TRANSACTION_HINT,
            )
