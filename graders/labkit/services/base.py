"""Endpoints, the provider interface, and readiness probes shared by every way of getting a server.

A provider starts at most one PostgreSQL and one Redis per run, lazily, because most labs need neither and a
server costs seconds. Checks get isolation from ``fresh.py`` (a database or logical db each), not from servers.
Readiness is always a real round trip: a port that accepts connections is not yet a database that answers.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self
from urllib.parse import quote

import psycopg
import redis

from labkit.errors import ServiceUnavailable

_POLL_BACKOFF_S = (0.02, 0.05, 0.1, 0.2)


@dataclass(frozen=True)
class PostgresEndpoint:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    def dsn(self, dbname: str | None = None) -> str:
        """libpq URI; ``dbname`` overrides the endpoint's database so one server can serve many checks."""
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"postgresql://{credentials}@{self.host}:{self.port}/{quote(dbname or self.dbname, safe='')}"


@dataclass(frozen=True)
class RedisEndpoint:
    host: str
    port: int
    password: str | None

    def url(self, db: int = 0) -> str:
        """redis:// URL for logical database ``db``."""
        auth = "" if self.password is None else f":{quote(self.password, safe='')}@"
        return f"redis://{auth}{self.host}:{self.port}/{db}"


@dataclass(frozen=True)
class Availability:
    """Whether a provider can work on this machine, and a sentence saying why (shown by ``labkit doctor``)."""

    usable: bool
    reason: str


class ServiceProvider(abc.ABC):
    """Starts servers on first use, hands out the same endpoint afterwards, and removes everything on close."""

    name: ClassVar[str]

    def __init__(self, run_id: str, workdir: Path) -> None:
        self.run_id = run_id
        self.workdir = workdir
        self.selected_because = f"--services {self.name}"  # resolve_provider explains an "auto" choice here
        self.selection_details = ""  # the probes' full answers (engine address, install paths), for -v and doctor
        self._postgres: PostgresEndpoint | None = None
        self._redis: RedisEndpoint | None = None

    def start_postgres(self) -> PostgresEndpoint:
        if self._postgres is None:
            self._postgres = self._start_postgres()
        return self._postgres

    def start_redis(self) -> RedisEndpoint:
        if self._redis is None:
            self._redis = self._start_redis()
        return self._redis

    def close(self) -> None:
        """Stops and removes whatever was started; safe to call twice or after a failed start."""
        self._postgres = self._redis = None
        self._shutdown()

    @classmethod
    @abc.abstractmethod
    def availability(cls) -> Availability:
        """Cheap check (no server start) of whether this provider can work here."""

    @abc.abstractmethod
    def _start_postgres(self) -> PostgresEndpoint: ...

    @abc.abstractmethod
    def _start_redis(self) -> RedisEndpoint: ...

    @abc.abstractmethod
    def _shutdown(self) -> None:
        """Must tolerate resources that were never started or are already gone."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def file_tail(path: Path, lines: int = 20) -> Callable[[], str]:
    """A log reader for the readiness probes; reads lazily so the tail is current when a probe gives up."""

    def read() -> str:
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(log {path} unreadable: {exc})"

    return read


def _poll(
    what: str,
    attempt: Callable[[], None],
    timeout_s: float,
    hint: str,
    log_tail: Callable[[], str] | None,
    alive: Callable[[], bool] | None,
) -> None:
    # Not wait.until: attempts back off, a dead server ends the wait at once, and the last error is the diagnosis.
    deadline = time.monotonic() + timeout_s
    polls = 0
    while True:
        try:
            attempt()
            return
        except Exception as exc:  # any failure is "not ready yet" until the deadline
            last_error = f"{type(exc).__name__}: {exc}".strip()
        exited = alive is not None and not alive()
        if exited or time.monotonic() >= deadline:
            reason = "server process exited" if exited else f"not ready after {timeout_s:g} s"
            message = f"{what}: {reason}; last error: {last_error}"
            if log_tail is not None:
                message += f"\n--- server log (tail) ---\n{log_tail()}"
            raise ServiceUnavailable(message, hint=hint)
        time.sleep(_POLL_BACKOFF_S[min(polls, len(_POLL_BACKOFF_S) - 1)])
        polls += 1


def wait_postgres_ready(
    endpoint: PostgresEndpoint,
    timeout_s: float,
    *,
    log_tail: Callable[[], str] | None = None,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Polls ``SELECT 1`` until it answers; ``alive`` lets a dead server fail fast instead of at the deadline."""

    def attempt() -> None:
        with psycopg.connect(endpoint.dsn(), connect_timeout=2, autocommit=True) as conn:
            conn.execute("SELECT 1").fetchone()

    hint = "see the server log above; `labkit doctor` shows which service providers work on this machine"
    _poll(f"PostgreSQL at {endpoint.host}:{endpoint.port}", attempt, timeout_s, hint, log_tail, alive)


def wait_redis_ready(
    endpoint: RedisEndpoint,
    timeout_s: float,
    *,
    log_tail: Callable[[], str] | None = None,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Polls PING until Redis answers PONG."""

    def attempt() -> None:
        client = redis.Redis.from_url(endpoint.url(), socket_connect_timeout=1, socket_timeout=1)
        try:
            if client.ping() is not True:
                raise ConnectionError("PING did not return PONG")
        finally:
            client.close()

    hint = "see the server log above; `labkit doctor` shows which service providers work on this machine"
    _poll(f"Redis at {endpoint.host}:{endpoint.port}", attempt, timeout_s, hint, log_tail, alive)
