"""Row locks the grader holds while concurrent calls start, so that a race happens every time, not by luck."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg

from labkit.services import PostgresEndpoint


class RowLocks:
    """Row locks the grader holds in transactions of its own, released one transaction at a time: a
    ``labkit.pool.Gate``, which ``pool.run(calls, gate=...)`` closes, and opens once the calls wait at it.

    Every implementation has to lock or write the rows a call involves at some point; with the grader holding
    them, each call does its unlocked reads and then waits at its first lock. Releasing everything at once
    makes every read-then-write overlap. Releasing in turns makes lock-order bugs deterministic too: after the
    first accounts of each pair are released, the transfer that got one waits for its second account behind
    the transfer still queued there, which then needs the first: a deadlock, every time.
    """

    def __init__(
        self,
        admin: PostgresEndpoint,
        lined_up: Callable[[], int],
        *,
        accounts: Iterable[int] = (),
        seats: Iterable[tuple[int, str]] = (),
        shifts: Iterable[int] = (),
        accounts_in_turn: Sequence[Iterable[int]] = (),
    ) -> None:
        self._admin = admin
        self._lined_up = lined_up
        self._rows = (sorted(accounts), sorted(seats), sorted(shifts))
        self._turns = [sorted(group) for group in accounts_in_turn]
        self._held: list[psycopg.Connection[Any]] = []

    def close(self) -> None:
        """Locks the rows (and the on-call rows of the shifts) in one transaction, then each group of accounts
        to release in turn in a transaction of its own."""
        accounts, seats, shifts = self._rows
        self._hold(accounts, seats, shifts)
        for group in self._turns:
            self._hold(group, [], [])

    def held(self) -> int:
        return self._lined_up()

    def open(self) -> bool:
        """Releases the next transaction; True once none is left."""
        if self._held:
            conn = self._held.pop(0)
            conn.rollback()
            conn.close()
        return not self._held

    def _hold(self, accounts: list[int], seats: list[tuple[int, str]], shifts: list[int]) -> None:
        conn = psycopg.connect(self._admin.dsn(), connect_timeout=5)
        self._held.append(conn)
        conn.execute("SELECT 1 FROM accounts WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (accounts,))
        for event_id, seat in seats:
            conn.execute("SELECT 1 FROM seats WHERE event_id = %s AND seat = %s FOR UPDATE", (event_id, seat))
        conn.execute("SELECT 1 FROM shifts WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (shifts,))
        conn.execute(
            "SELECT 1 FROM on_call WHERE shift_id = ANY(%s) ORDER BY shift_id, doctor_id FOR UPDATE", (shifts,)
        )
