"""Row locks the grader holds while concurrent calls start, so that a race happens every time, not by luck."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from labkit.services import PostgresEndpoint


class Gate:
    """Row locks the grader holds in transactions of its own, released one transaction at a time.

    Every implementation has to lock or write the rows a call involves at some point; with the grader holding
    them, each call does its unlocked reads and then waits at its first lock. Releasing everything at once
    makes every read-then-write overlap. Releasing in turns makes lock-order bugs deterministic too: after the
    first accounts of each pair are released, the transfer that got one waits for its second account behind
    the transfer still queued there, which then needs the first: a deadlock, every time.
    """

    def __init__(self, admin: PostgresEndpoint) -> None:
        self._admin = admin
        self._held: list[psycopg.Connection[Any]] = []

    def hold(
        self,
        accounts: Iterable[int] = (),
        seats: Iterable[tuple[int, str]] = (),
        shifts: Iterable[int] = (),
    ) -> None:
        """Locks the rows (and the on-call rows of the shifts) in a new transaction."""
        conn = psycopg.connect(self._admin.dsn(), connect_timeout=5)
        self._held.append(conn)
        conn.execute("SELECT 1 FROM accounts WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (sorted(accounts),))
        for event_id, seat in sorted(seats):
            conn.execute("SELECT 1 FROM seats WHERE event_id = %s AND seat = %s FOR UPDATE", (event_id, seat))
        conn.execute("SELECT 1 FROM shifts WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (sorted(shifts),))
        conn.execute(
            "SELECT 1 FROM on_call WHERE shift_id = ANY(%s) ORDER BY shift_id, doctor_id FOR UPDATE",
            (sorted(shifts),),
        )

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def release_next(self) -> None:
        conn = self._held.pop(0)
        conn.rollback()
        conn.close()

    def close(self) -> None:
        while self._held:
            self.release_next()
