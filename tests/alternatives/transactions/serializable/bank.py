"""The same interface built differently: every operation runs at SERIALIZABLE without explicit locks, computes
balances in Python, and relies on PostgreSQL's serialization failures plus retries for correctness."""

from __future__ import annotations

import os
import random
import time

import psycopg
from psycopg import errors

ATTEMPTS = 7


class InsufficientFunds(Exception):
    pass


class SeatTaken(Exception):
    pass


class MustStayOnCall(Exception):
    pass


class IdempotencyKeyReused(Exception):
    pass


_conn = None


def conn():
    global _conn
    if _conn is None:
        _conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        _conn.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
    return _conn


def serializable(work):
    for attempt in range(ATTEMPTS):
        try:
            with conn().transaction():
                return work(conn())
        except (errors.SerializationFailure, errors.DeadlockDetected, errors.UniqueViolation) as error:
            if attempt == ATTEMPTS - 1:
                raise
            if isinstance(error, errors.UniqueViolation) and error.diag.constraint_name == "one_booking_per_seat":
                raise SeatTaken("taken") from None
            base = 0.012 * 2**attempt
            time.sleep(base + random.uniform(0, base / 2))


def migrate():
    with conn().transaction():
        conn().execute("CREATE UNIQUE INDEX one_transfer_per_key ON transfers (idempotency_key)")
        conn().execute("ALTER TABLE bookings ADD CONSTRAINT one_booking_per_seat UNIQUE (event_id, seat)")


def transfer(from_id, to_id, amount_cents, idempotency_key):
    def work(c):
        earlier = c.execute(
            "SELECT id, from_id, to_id, amount_cents FROM transfers WHERE idempotency_key = %s", (idempotency_key,)
        ).fetchone()
        if earlier:
            if earlier[1:] != (from_id, to_id, amount_cents):
                raise IdempotencyKeyReused(idempotency_key)
            return earlier[0]
        balance = c.execute("SELECT balance_cents FROM accounts WHERE id = %s", (from_id,)).fetchone()[0]
        if balance < amount_cents:
            raise InsufficientFunds(f"{balance} < {amount_cents}")
        credit = c.execute("SELECT balance_cents FROM accounts WHERE id = %s", (to_id,)).fetchone()[0]
        c.execute("UPDATE accounts SET balance_cents = %s WHERE id = %s", (balance - amount_cents, from_id))
        c.execute("UPDATE accounts SET balance_cents = %s WHERE id = %s", (credit + amount_cents, to_id))
        return c.execute(
            "INSERT INTO transfers (from_id, to_id, amount_cents, idempotency_key) VALUES (%s, %s, %s, %s) "
            "RETURNING id",
            (from_id, to_id, amount_cents, idempotency_key),
        ).fetchone()[0]

    return serializable(work)


def book_seat(event_id, seat, user_id):
    def work(c):
        if c.execute("SELECT 1 FROM bookings WHERE event_id = %s AND seat = %s", (event_id, seat)).fetchone():
            raise SeatTaken(seat)
        return c.execute(
            "INSERT INTO bookings (event_id, seat, user_id) VALUES (%s, %s, %s) RETURNING id",
            (event_id, seat, user_id),
        ).fetchone()[0]

    return serializable(work)


def go_off_call(doctor_id, shift_id):
    def work(c):
        on_call = c.execute("SELECT count(*) FROM on_call WHERE shift_id = %s AND on_call", (shift_id,)).fetchone()[0]
        if on_call < 2:
            raise MustStayOnCall(doctor_id)
        c.execute("UPDATE on_call SET on_call = false WHERE shift_id = %s AND doctor_id = %s", (shift_id, doctor_id))

    serializable(work)


def demonstrate_lost_update(account_id, amount_cents):
    url = os.environ["DATABASE_URL"]
    a = psycopg.connect(url)
    b = psycopg.connect(url)
    try:
        read_a = a.execute("SELECT balance_cents FROM accounts WHERE id = %s", (account_id,)).fetchone()[0]
        read_b = b.execute("SELECT balance_cents FROM accounts WHERE id = %s", (account_id,)).fetchone()[0]
        a.execute("UPDATE accounts SET balance_cents = %s WHERE id = %s", (read_a + amount_cents, account_id))
        a.commit()
        b.execute("UPDATE accounts SET balance_cents = %s WHERE id = %s", (read_b + amount_cents, account_id))
        b.commit()
        final = a.execute("SELECT balance_cents FROM accounts WHERE id = %s", (account_id,)).fetchone()[0]
        a.rollback()
    finally:
        a.close()
        b.close()
    return {"first_read": read_a, "second_read": read_b, "final_balance": final}


def demonstrate_write_skew(shift_id):
    url = os.environ["DATABASE_URL"]
    a = psycopg.connect(url)
    b = psycopg.connect(url)
    try:
        for c in (a, b):
            c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        query = "SELECT doctor_id FROM on_call WHERE shift_id = %s AND on_call ORDER BY doctor_id"
        seen_a = [d for (d,) in a.execute(query, (shift_id,)).fetchall()]
        seen_b = [d for (d,) in b.execute(query, (shift_id,)).fetchall()]
        a.execute("UPDATE on_call SET on_call = false WHERE shift_id = %s AND doctor_id = %s", (shift_id, seen_a[0]))
        b.execute("UPDATE on_call SET on_call = false WHERE shift_id = %s AND doctor_id = %s", (shift_id, seen_b[1]))
        a.commit()
        b.commit()
        after = a.execute("SELECT count(*) FROM on_call WHERE shift_id = %s AND on_call", (shift_id,)).fetchone()[0]
        a.commit()
    finally:
        a.close()
        b.close()
    return {"first_count": len(seen_a), "second_count": len(seen_b), "on_call_after": after}
