"""A wallet, a ticket office and an on-call rota on PostgreSQL. See README.md for the full specification.

The grader imports this module in several processes at once and calls the functions below. Read the database
URL from the environment variable DATABASE_URL; psycopg (version 3) is installed with labkit.
"""

from __future__ import annotations

import os

import psycopg


def connect() -> psycopg.Connection:
    """A new connection to the grader's database; autocommit, so `with conn.transaction():` delimits transactions."""
    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)


class InsufficientFunds(Exception):
    """The source account's balance does not cover the amount."""


class SeatTaken(Exception):
    """Somebody already booked this seat."""


class MustStayOnCall(Exception):
    """The doctor is the last one on call for the shift."""


class IdempotencyKeyReused(Exception):
    """The key belongs to an earlier transfer with different arguments."""


def migrate() -> None:
    """Called once, on the documented schema, before anything else: add the constraints you need."""
    # TODO (stages double-booking and idempotency): UNIQUE constraints.


def demonstrate_lost_update(account_id: int, amount_cents: int) -> dict[str, int]:
    """Stage anomalies: two READ COMMITTED transactions deposit amount_cents; one deposit is lost."""
    raise NotImplementedError("TODO: demonstrate a lost update (see README.md, stage anomalies)")


def demonstrate_write_skew(shift_id: int) -> dict[str, int]:
    """Stage anomalies: two REPEATABLE READ transactions take both doctors of the shift off call."""
    raise NotImplementedError("TODO: demonstrate write skew (see README.md, stage anomalies)")


def transfer(from_id: int, to_id: int, amount_cents: int, idempotency_key: str) -> int:
    """Moves amount_cents from one account to another; returns the id of the transfers row."""
    raise NotImplementedError("TODO: transfer (see README.md)")


def book_seat(event_id: int, seat: str, user_id: int) -> int:
    """Books a seat for a user; returns the id of the bookings row, or raises SeatTaken."""
    raise NotImplementedError("TODO: book_seat (see README.md)")


def go_off_call(doctor_id: int, shift_id: int) -> None:
    """Takes a doctor off call for a shift, or raises MustStayOnCall if they are the last one on call."""
    raise NotImplementedError("TODO: go_off_call (see README.md)")
