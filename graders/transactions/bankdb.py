"""The grader's side of the database: setting it up once per run, resetting it per check, the rows a check
needs, what the grader reads back, and the planned failures of stage ``retries``. Everything here runs with the
superuser connection, except the documented schema, which is created as the learner's role (see ``schema``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from gate import RowLocks
from labkit.checks import fail
from labkit.services import PostgresEndpoint
from labkit.wait import until
from schema import GRADER_TRIGGERS, INSTRUMENTS, RECORDED_ATTEMPTS, SCHEMA

DEADLOCK_TIMEOUT = "100ms"  # PostgreSQL's default 1 s would make every deadlock cost a second
CHAOS_SLOTS = 8

OPEN_TRANSACTION_STATES = ("idle in transaction", "idle in transaction (aborted)")


@dataclass(frozen=True)
class Write:
    """One committed UPDATE the grader's trigger saw."""

    row_key: str
    old_value: int
    new_value: int
    txid: int
    backend: int
    isolation: str


@dataclass(frozen=True)
class Transfer:
    id: int
    from_id: int
    to_id: int
    amount_cents: int
    idempotency_key: str


@dataclass(frozen=True)
class Booking:
    id: int
    event_id: int
    seat: str
    user_id: int


class BankDatabase:
    """One database for the whole run, reset between checks (see the lab README, "How the grader runs your
    module")."""

    def __init__(self, admin: PostgresEndpoint, learner: PostgresEndpoint) -> None:
        self.admin = admin
        self.learner = learner
        self.migrated = False  # the learner's migrate() runs once per run, in the first check
        self._conn = psycopg.connect(admin.dsn(), autocommit=True, connect_timeout=5)

    @classmethod
    def create(cls, admin: PostgresEndpoint, learner: PostgresEndpoint) -> BankDatabase:
        with psycopg.connect(learner.dsn(), autocommit=True, connect_timeout=5) as owner:
            owner.execute(SCHEMA)
        database = cls(admin, learner)
        database._conn.execute(INSTRUMENTS)
        names = [_attempts(slot) for slot in range(1, CHAOS_SLOTS + 1)]
        names += [_stamp(slot, n) for slot in range(1, CHAOS_SLOTS + 1) for n in range(1, RECORDED_ATTEMPTS + 1)]
        database._conn.execute(
            sql.SQL(" ").join(
                sql.SQL("CREATE SEQUENCE {};").format(sql.Identifier("labkit_grader", name)) for name in names
            )
        )
        for setting, value in (
            ("deadlock_timeout", DEADLOCK_TIMEOUT),
            ("default_transaction_isolation", "read committed"),
        ):
            database._conn.execute(
                sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    sql.Identifier(admin.dbname), sql.Identifier(setting), sql.Literal(value)
                )
            )
        return database

    def close(self) -> None:
        self._conn.close()

    # -- between checks ---------------------------------------------------------------------------------------

    def learner_sessions(self) -> list[tuple[int, str]]:
        """(pid, state) of every connection the learner's code holds to this database."""
        rows = self._conn.execute(
            "SELECT pid, coalesce(state, '') FROM pg_stat_activity WHERE datname = %s AND usename = %s",
            (self.admin.dbname, self.learner.user),
        ).fetchall()
        return [(int(pid), str(state)) for pid, state in rows]

    def end_learner_sessions(self) -> None:
        self._conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND usename = %s",
            (self.admin.dbname, self.learner.user),
        )
        until(lambda: not self.learner_sessions(), 5.0)

    def reset(self) -> None:
        """Empties every table of the public schema (the learner's own ones too) and the grader's records, and
        restarts the sequences. DELETE with foreign keys and triggers suspended (replica mode) is ten times
        faster than TRUNCATE on tables this small, which matters once per check."""
        self.expect_grader_triggers()
        tables = self._conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
        try:
            with self._conn.transaction():
                self._conn.execute("SET LOCAL lock_timeout = '3s'")
                self._conn.execute("SET LOCAL session_replication_role = replica")
                for (table,) in tables:
                    self._conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier("public", table)))
                self._conn.execute("DELETE FROM labkit_grader.writes")
                self._conn.execute("DELETE FROM labkit_grader.chaos_plan")
                self._conn.execute(
                    "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s "
                    "JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = 'public'::regnamespace"
                )
        except psycopg.errors.LockNotAvailable:
            fail(
                "the grader could not empty the tables between checks: a connection of yours still holds locks",
                hint="end every transaction before your function returns (commit, or roll back on errors)",
            )

    def expect_grader_triggers(self) -> None:
        rows = self._conn.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND t.tgenabled <> 'D'"
        ).fetchall()
        missing = GRADER_TRIGGERS - {(str(table), str(name)) for table, name in rows}
        if missing:
            table, name = sorted(missing)[0]
            fail(
                f"the grader's trigger {name} on table {table} is missing or disabled",
                hint="migrate() may add constraints, indexes and tables, but must not drop, recreate or disable "
                "the documented tables or the grader's triggers on them",
            )

    # -- data ---------------------------------------------------------------------------------------------

    def seed(self, statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Inserts the check's rows; a failure here means migrate() changed what the spec promises."""
        try:
            with self._conn.cursor() as cursor:
                cursor.executemany(statement, list(rows))
        except psycopg.Error as error:
            fail(
                f"the grader could not insert its rows after your migrate(): {_first_line(error)}",
                hint="migrate() must keep the documented columns accepting the grader's inserts "
                "(a new NOT NULL column needs a default)",
            )

    def open_accounts(self, balances: dict[int, int]) -> None:
        self.seed(
            "INSERT INTO accounts (id, owner, balance_cents) VALUES (%s, %s, %s)",
            [(account, f"owner {account}", cents) for account, cents in balances.items()],
        )

    def add_seats(self, event_id: int, seats: Iterable[str]) -> None:
        self.seed("INSERT INTO seats (event_id, seat) VALUES (%s, %s)", [(event_id, seat) for seat in seats])

    def staff_shift(self, shift_id: int, on_call: Iterable[int], off_call: Iterable[int] = ()) -> None:
        self.seed("INSERT INTO shifts (id) VALUES (%s)", [(shift_id,)])
        self.seed(
            "INSERT INTO on_call (shift_id, doctor_id, on_call) VALUES (%s, %s, %s)",
            [(shift_id, doctor, True) for doctor in on_call] + [(shift_id, doctor, False) for doctor in off_call],
        )

    def add_funds(self, account: int, cents: int) -> None:
        self._conn.execute("UPDATE accounts SET balance_cents = balance_cents + %s WHERE id = %s", (cents, account))

    def balances(self) -> dict[int, int]:
        rows = self._conn.execute("SELECT id, balance_cents FROM accounts ORDER BY id").fetchall()
        return {int(account): int(cents) for account, cents in rows}

    def transfers(self) -> list[Transfer]:
        rows = self._conn.execute(
            "SELECT id, from_id, to_id, amount_cents, idempotency_key FROM transfers ORDER BY id"
        ).fetchall()
        return [Transfer(int(a), int(b), int(c), int(d), str(e)) for a, b, c, d, e in rows]

    def bookings(self) -> list[Booking]:
        rows = self._conn.execute("SELECT id, event_id, seat, user_id FROM bookings ORDER BY id").fetchall()
        return [Booking(int(a), int(b), str(c), int(d)) for a, b, c, d in rows]

    def doctors_on_call(self, shift_id: int) -> list[int]:
        rows = self._conn.execute(
            "SELECT doctor_id FROM on_call WHERE shift_id = %s AND on_call ORDER BY doctor_id", (shift_id,)
        ).fetchall()
        return [int(doctor) for (doctor,) in rows]

    def writes(self, row_kind: str) -> list[Write]:
        rows = self._conn.execute(
            "SELECT row_key, old_value, new_value, txid, backend, isolation FROM labkit_grader.writes "
            "WHERE row_kind = %s ORDER BY seq",
            (row_kind,),
        ).fetchall()
        return [Write(str(a), int(b), int(c), int(d), int(e), str(f)) for a, b, c, d, e, f in rows]

    def open_transactions(self) -> int:
        """How many of the learner's connections sit inside a transaction while no call of theirs is running."""
        return sum(1 for _, state in self.learner_sessions() if state in OPEN_TRANSACTION_STATES)

    # -- injected failures ----------------------------------------------------------------------------------

    def plan_failures(self, target: str, slot: int, failures: int) -> None:
        """The first ``failures`` attempts at ``target`` fail (-1: all of them); attempts are counted in ``slot``."""
        self._conn.execute(sql.SQL("SELECT setval({}, 1, false)").format(sql.Literal(_qualified(_attempts(slot)))))
        for attempt in range(1, RECORDED_ATTEMPTS + 1):
            name = sql.Literal(_qualified(_stamp(slot, attempt)))
            self._conn.execute(sql.SQL("SELECT setval({}, 1, false)").format(name))
        self._conn.execute(
            "INSERT INTO labkit_grader.chaos_plan (target, slot, failures) VALUES (%s, %s, %s)",
            (target, slot, failures),
        )

    def attempts(self, slot: int) -> int:
        return self._sequence(_attempts(slot))

    def attempt_times_us(self, slot: int) -> list[int]:
        """When each recorded attempt reached the grader's trigger, in microseconds of the server's clock."""
        stamps = [self._sequence(_stamp(slot, attempt)) for attempt in range(1, RECORDED_ATTEMPTS + 1)]
        return [stamp for stamp in stamps if stamp]

    def _sequence(self, name: str) -> int:
        row = self._conn.execute(
            sql.SQL("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM labkit_grader.{}").format(
                sql.Identifier(name)
            )
        ).fetchone()
        return int(row[0]) if row else 0

    # -- the gate -------------------------------------------------------------------------------------------

    def row_locks(
        self,
        *,
        accounts: Iterable[int] = (),
        seats: Iterable[tuple[int, str]] = (),
        shifts: Iterable[int] = (),
        accounts_in_turn: Sequence[Iterable[int]] = (),
    ) -> RowLocks:
        return RowLocks(
            self.admin, self.lined_up, accounts=accounts, seats=seats, shifts=shifts, accounts_in_turn=accounts_in_turn
        )

    def lined_up(self) -> int:
        """How many of the learner's connections are blocked by somebody's lock right now. This reads the lock
        table, not the wait events the backends report themselves, so a backend whose lock was just granted no
        longer counts even before it runs again."""
        row = self._conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND usename = %s "
            "AND cardinality(pg_blocking_pids(pid)) > 0",
            (self.admin.dbname, self.learner.user),
        ).fetchone()
        return int(row[0]) if row else 0


def _attempts(slot: int) -> str:
    return f"attempts_{slot}"


def _stamp(slot: int, attempt: int) -> str:
    return f"attempt_{slot}_{attempt}"


def _qualified(name: str) -> str:
    return f"labkit_grader.{name}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
