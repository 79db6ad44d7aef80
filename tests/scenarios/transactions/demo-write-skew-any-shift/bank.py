"""A wallet, a ticket office and an on-call rota on PostgreSQL, safe under concurrent callers.

Every operation runs at READ COMMITTED and makes its decision under a row lock (or lets a unique constraint
decide), takes locks in ascending id order, and is retried with exponential backoff on 40001/40P01.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg import errors

T = TypeVar("T")

MAX_ATTEMPTS = 6
FIRST_DELAY_S = 0.010
MAX_DELAY_S = 0.5
RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)


class InsufficientFunds(Exception):
    """The source account's balance does not cover the amount."""


class SeatTaken(Exception):
    """Somebody already booked this seat."""


class MustStayOnCall(Exception):
    """The doctor is the last one on call for the shift."""


class IdempotencyKeyReused(Exception):
    """The key belongs to an earlier transfer with different arguments."""


_connection: psycopg.Connection | None = None


def _conn() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return _connection


def _in_transaction(work: Callable[[psycopg.Connection], T]) -> T:
    """Runs ``work`` in a transaction, again from the start when PostgreSQL aborts it for a conflict."""
    delay = FIRST_DELAY_S
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            conn = _conn()
            with conn.transaction():
                return work(conn)
        except RETRYABLE:
            if attempt == MAX_ATTEMPTS:
                raise
            time.sleep(delay + random.uniform(0, delay / 2))
            delay = min(delay * 2, MAX_DELAY_S)
    raise AssertionError("unreachable: the last attempt returns or raises")


def migrate() -> None:
    with _conn().transaction():
        _conn().execute("ALTER TABLE transfers ADD CONSTRAINT transfers_idempotency_key_key UNIQUE (idempotency_key)")
        _conn().execute("ALTER TABLE bookings ADD CONSTRAINT bookings_one_per_seat UNIQUE (event_id, seat)")
        _conn().execute("ALTER TABLE accounts ADD CONSTRAINT accounts_no_overdraft CHECK (balance_cents >= 0)")


def transfer(from_id: int, to_id: int, amount_cents: int, idempotency_key: str) -> int:
    def work(conn: psycopg.Connection) -> int:
        earlier = _earlier_transfer(conn, from_id, to_id, amount_cents, idempotency_key)
        if earlier is not None:
            return earlier
        rows = conn.execute(
            "SELECT id, balance_cents FROM accounts WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            ([from_id, to_id],),
        ).fetchall()
        balances = dict(rows)
        inserted = conn.execute(
            "INSERT INTO transfers (from_id, to_id, amount_cents, idempotency_key) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            (from_id, to_id, amount_cents, idempotency_key),
        ).fetchone()
        if inserted is None:  # a concurrent call with this key committed while we waited for the locks
            earlier = _earlier_transfer(conn, from_id, to_id, amount_cents, idempotency_key)
            assert earlier is not None
            return earlier
        if balances[from_id] < amount_cents:
            raise InsufficientFunds(f"account {from_id} has {balances[from_id]} cents, needs {amount_cents}")
        conn.execute("UPDATE accounts SET balance_cents = balance_cents - %s WHERE id = %s", (amount_cents, from_id))
        conn.execute("UPDATE accounts SET balance_cents = balance_cents + %s WHERE id = %s", (amount_cents, to_id))
        return int(inserted[0])

    return _in_transaction(work)


def _earlier_transfer(conn: psycopg.Connection, from_id: int, to_id: int, amount: int, key: str) -> int | None:
    row = conn.execute(
        "SELECT id, from_id, to_id, amount_cents FROM transfers WHERE idempotency_key = %s", (key,)
    ).fetchone()
    if row is None:
        return None
    if tuple(row[1:]) != (from_id, to_id, amount):
        raise IdempotencyKeyReused(f"key {key!r} was used for transfer {row[0]} with other arguments")
    return int(row[0])


def book_seat(event_id: int, seat: str, user_id: int) -> int:
    def work(conn: psycopg.Connection) -> int:
        row = conn.execute(
            "INSERT INTO bookings (event_id, seat, user_id) VALUES (%s, %s, %s) "
            "ON CONFLICT (event_id, seat) DO NOTHING RETURNING id",
            (event_id, seat, user_id),
        ).fetchone()
        if row is None:
            raise SeatTaken(f"seat {seat} of event {event_id} is taken")
        return int(row[0])

    return _in_transaction(work)


def go_off_call(doctor_id: int, shift_id: int) -> None:
    def work(conn: psycopg.Connection) -> None:
        conn.execute("SELECT 1 FROM shifts WHERE id = %s FOR UPDATE", (shift_id,))
        row = conn.execute("SELECT count(*) FROM on_call WHERE shift_id = %s AND on_call", (shift_id,)).fetchone()
        if row is None or row[0] <= 1:
            raise MustStayOnCall(f"doctor {doctor_id} is the last one on call for shift {shift_id}")
        conn.execute("UPDATE on_call SET on_call = false WHERE shift_id = %s AND doctor_id = %s", (shift_id, doctor_id))

    _in_transaction(work)


def demonstrate_lost_update(account_id: int, amount_cents: int) -> dict[str, int]:
    url = os.environ["DATABASE_URL"]
    query = "SELECT balance_cents FROM accounts WHERE id = %s"
    with psycopg.connect(url) as first, psycopg.connect(url) as second:
        first_read = _scalar(first.execute(query, (account_id,)).fetchone())
        second_read = _scalar(second.execute(query, (account_id,)).fetchone())
        first.execute("UPDATE accounts SET balance_cents = %s WHERE id = %s", (first_read + amount_cents, account_id))
        first.commit()
        second.execute("UPDATE accounts SET balance_cents = %s WHERE id = %s", (second_read + amount_cents, account_id))
        second.commit()
        final = _scalar(first.execute(query, (account_id,)).fetchone())
        first.commit()
    return {"first_read": first_read, "second_read": second_read, "final_balance": final}


def demonstrate_write_skew(shift_id: int) -> dict[str, int]:
    url = os.environ["DATABASE_URL"]
    count = "SELECT count(*) FROM on_call WHERE shift_id = %s AND on_call"
    off = "UPDATE on_call SET on_call = false WHERE shift_id = %s AND doctor_id = %s"
    with psycopg.connect(url) as first, psycopg.connect(url) as second:
        for conn in (first, second):
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        doctors = [
            doctor
            for (doctor,) in first.execute(
                "SELECT doctor_id FROM on_call WHERE shift_id = %s OR on_call ORDER BY doctor_id", (shift_id,)
            ).fetchall()
        ]
        first_count = _scalar(first.execute(count, (shift_id,)).fetchone())
        second_count = _scalar(second.execute(count, (shift_id,)).fetchone())
        first.execute(off, (shift_id, doctors[0]))
        second.execute(off, (shift_id, doctors[1]))
        first.commit()
        second.commit()
        after = _scalar(first.execute(count, (shift_id,)).fetchone())
        first.commit()
    return {"first_count": first_count, "second_count": second_count, "on_call_after": after}


def _scalar(row: tuple[int, ...] | None) -> int:
    assert row is not None
    return int(row[0])
