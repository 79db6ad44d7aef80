"""The application around the online migration: an old version that knows only users.full_name and a new version
that knows only users.first_name and users.last_name, as the README documents them, statement for statement.

Each session checks what the database answers: a statement that fails, or a name read back that differs from the
last one written (by either version), is a ``WorkloadError``. The grader keeps a model of every user's name.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from pgsession import render
from writes import sqlstate_name

OLD_INSERT = "INSERT INTO users (email, full_name) VALUES (%s, %s) RETURNING id"
OLD_RENAME = "UPDATE users SET full_name = %s WHERE id = %s"
OLD_READ = "SELECT full_name FROM users WHERE id = %s"
NEW_INSERT = "INSERT INTO users (email, first_name, last_name) VALUES (%s, %s, %s) RETURNING id"
NEW_RENAME = "UPDATE users SET first_name = %s, last_name = %s WHERE id = %s"
NEW_READ = "SELECT first_name, last_name FROM users WHERE id = %s"
NEW_FIND = "SELECT id FROM users WHERE last_name = %s"

FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim", "Margaret",
               "Dennis", "Niklaus", "Leslie", "Shafi", "Yukihiro", "Sophie", "John", "Katherine", "Guido")  # fmt: skip
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman",
              "Berners-Lee", "Hamilton", "Ritchie", "Wirth", "Lamport", "Goldwasser", "Matsumoto", "Wilson",
              "van Rossum", "de la Cruz", "Johnson", "von Neumann", "O'Neil")  # fmt: skip


def random_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def joined(name: tuple[str, str]) -> str:
    return f"{name[0]} {name[1]}"


@dataclass
class Person:
    email: str
    name: tuple[str, str]
    written: str  # which version wrote the name last, and when
    stable: bool = True  # False for rows of the threaded sessions, whose history depends on timing
    during: bool = False  # last written after the first step began


class Model:
    """What every user's name must be. Each session writes only users it owns, so entries never race."""

    def __init__(self) -> None:
        self.people: dict[object, Person] = {}

    def label(self, user_id: object) -> str:
        person = self.people.get(user_id)
        return f"<id of {person.email}>" if person else repr(user_id)


class Phase:
    """The moment of the rollout, set by the grader and read by sessions when something goes wrong."""

    def __init__(self) -> None:
        self.label = "before the migration"
        self.started = False


class WorkloadError(Exception):
    def __init__(self, version: str, phase: str, statement: str, problem: str, sqlstate: str | None) -> None:
        super().__init__(f"{version} version: {statement}: {problem}")
        self.version = version
        self.phase = phase
        self.statement = statement
        self.problem = problem
        self.sqlstate = sqlstate


class Session:
    """One connection of one application version."""

    def __init__(
        self, conn: psycopg.Connection, version: str, model: Model, phase: Phase, prefix: str, *, stable: bool
    ) -> None:
        self.conn = conn
        self.stable = stable
        self.version = version  # "old" or "new"
        self.model = model
        self.phase = phase
        self.prefix = prefix
        self.created = 0

    def _run(self, statement: str, params: tuple[object, ...], shown: tuple[object, ...]) -> list[TupleRow]:
        try:
            cursor = self.conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []
        except psycopg.Error as error:
            message = (error.diag.message_primary or str(error)).strip()
            problem = f"failed with {sqlstate_name(error.sqlstate)}: {message}"
            raise WorkloadError(
                self.version, self.phase.label, render(statement, shown), problem, error.sqlstate
            ) from error

    def _mismatch(
        self, statement: str, shown: tuple[object, ...], got: object, expected: object, user_id: object
    ) -> None:
        person = self.model.people[user_id]
        problem = f"read {got!r} but the name is {expected!r} (last written by {person.written})"
        raise WorkloadError(self.version, self.phase.label, render(statement, shown), problem, None)

    def create(self, name: tuple[str, str]) -> object:
        self.created += 1
        email = f"{self.prefix}-{self.created}@example.com"
        if self.version == "old":
            params: tuple[object, ...] = (email, joined(name))
            rows = self._run(OLD_INSERT, params, params)
        else:
            params = (email, *name)
            rows = self._run(NEW_INSERT, params, params)
        user_id = rows[0][0]
        written = f"the {self.version} version {self.phase.label}"
        self.model.people[user_id] = Person(email, name, written, self.stable, self.phase.started)
        return user_id

    def rename(self, user_id: object, name: tuple[str, str]) -> None:
        label = self.model.label(user_id)
        if self.version == "old":
            self._run(OLD_RENAME, (joined(name), user_id), (joined(name), label))
        else:
            self._run(NEW_RENAME, (*name, user_id), (*name, label))
        person = self.model.people[user_id]
        person.name, person.written = name, f"the {self.version} version {self.phase.label}"
        person.during = self.phase.started

    def read(self, user_id: object) -> None:
        expected = self.model.people[user_id].name
        shown = (self.model.label(user_id),)
        if self.version == "old":
            rows = self._run(OLD_READ, (user_id,), shown)
            got: object = rows[0][0] if rows else None
            if got != joined(expected):
                self._mismatch(OLD_READ, shown, got, joined(expected), user_id)
        else:
            rows = self._run(NEW_READ, (user_id,), shown)
            got = tuple(rows[0]) if rows else None
            if got != expected:
                self._mismatch(NEW_READ, shown, got, expected, user_id)

    def find(self, user_id: object) -> None:
        """The new version's search by last name must find the user."""
        last = self.model.people[user_id].name[1]
        rows = self._run(NEW_FIND, (last,), (last,))
        if user_id not in {row[0] for row in rows}:
            self._mismatch(NEW_FIND, (last,), f"{len(rows)} ids without this user", last, user_id)


class Worker(threading.Thread):
    """A session in a loop of create / rename / read on users it owns, until stopped or a statement fails."""

    MAX_OPS = 4000  # bounds the work of one session in one check
    PAUSE_S = 0.005  # paces the loop so the step being applied gets the CPU too

    def __init__(self, session: Session, owned: list[object], rng: random.Random, progress: threading.Condition):
        super().__init__(daemon=True, name=f"labkit-{session.prefix}")
        self.session = session
        self.owned = list(owned)
        self.rng = rng
        self.progress = progress
        self.stopping = threading.Event()
        self.ops = 0
        self.error: WorkloadError | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set() and self.ops < self.MAX_OPS:
                self.step()
                with self.progress:
                    self.ops += 1
                    self.progress.notify_all()
                self.stopping.wait(self.PAUSE_S)
        except WorkloadError as error:
            self.error = error
        except psycopg.Error as error:  # the connection itself broke (cancelled at shutdown, server gone)
            if not self.stopping.is_set():
                self.error = WorkloadError(self.session.version, self.session.phase.label, "(connection)",
                                           f"{error}".strip(), error.sqlstate)  # fmt: skip
        finally:
            with self.progress:
                self.progress.notify_all()

    def step(self) -> None:
        choice = self.rng.random()
        if choice < 0.2 or not self.owned:
            self.owned.append(self.session.create(random_name(self.rng)))
        elif choice < 0.55:
            self.session.rename(self.rng.choice(self.owned), random_name(self.rng))
        elif choice < 0.9 or self.session.version == "old":
            self.session.read(self.rng.choice(self.owned))
        else:
            self.session.find(self.rng.choice(self.owned))

    @property
    def finished(self) -> bool:
        return self.error is not None or not self.is_alive()
