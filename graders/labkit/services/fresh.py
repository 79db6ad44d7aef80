"""Per-check isolation on one server per run: a new PostgreSQL database, or a flushed Redis logical db.

Creating a database takes milliseconds where starting a server takes most of a second (or a container start),
so every check gets a clean slate without paying for a server of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from urllib.parse import quote

import psycopg
import redis
from psycopg import sql

from labkit.errors import ServiceUnavailable
from labkit.services.base import PostgresEndpoint, RedisEndpoint

REDIS_DEFAULT_DATABASES = 16  # redis.conf `databases 16`: indexes 0..15 unless the server says otherwise


def _admin(endpoint: PostgresEndpoint, statement: sql.Composed) -> None:
    try:
        with psycopg.connect(endpoint.dsn(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)
    except psycopg.Error as exc:
        raise ServiceUnavailable(
            f"PostgreSQL at {endpoint.host}:{endpoint.port}: {statement.as_string()} failed: {exc}",
            hint=f"the role {endpoint.user!r} needs CREATEDB; is the server still running?",
        ) from exc


@contextmanager
def fresh_postgres_database(endpoint: PostgresEndpoint, *, template: str | None = None) -> Iterator[PostgresEndpoint]:
    """Yields ``endpoint`` pointed at a new database, dropped (with its connections) afterwards.

    With ``template``, the database starts as a copy of that one (which must have no open connections): a dataset
    generated once per run is then cloned per check in a fraction of the time it took to load.
    """
    dbname = f"labkit_{secrets.token_hex(6)}"
    name = sql.Identifier(dbname)
    create = sql.SQL("CREATE DATABASE {}").format(name)
    if template is not None:
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(name, sql.Identifier(template))
    _admin(endpoint, create)
    try:
        yield replace(endpoint, dbname=dbname)
    finally:
        _admin(endpoint, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


@contextmanager
def learner_role(database: PostgresEndpoint) -> Iterator[PostgresEndpoint]:
    """Yields ``database`` as seen by a new unprivileged role, for code the learner wrote.

    The role owns the public schema and may connect, create schemas and temporary tables, so it can create and
    change anything inside its database, but it is no superuser (no other databases' data, no ``COPY ... FROM
    PROGRAM``, no server files) and does not own the database itself: an owner could ``DROP DATABASE`` it from
    another connection, or change its settings, under the grader's feet.
    """
    role = f"labkit_learner_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    ident = sql.Identifier(role)
    _admin(
        database,
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION").format(
            ident, sql.Literal(password)
        ),
    )
    try:
        _admin(
            database,
            sql.SQL("GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(database.dbname), ident
            ),
        )
        _admin(database, sql.SQL("ALTER SCHEMA public OWNER TO {}").format(ident))
        yield replace(database, user=role, password=password)
    finally:
        # Hand everything back to the admin before dropping the role, which may not own anything.
        _admin(database, sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(ident))
        _admin(database, sql.SQL("DROP OWNED BY {}").format(ident))
        _admin(database, sql.SQL("DROP ROLE IF EXISTS {}").format(ident))


def fresh_redis_db(endpoint: RedisEndpoint, db_index: int) -> str:
    """FLUSHDBs logical database ``db_index`` and returns its URL.

    The caller picks the index: a server has ``REDIS_DEFAULT_DATABASES`` (0..15) unless configured otherwise,
    and two checks running at the same time must not share one.
    """
    client = redis.Redis.from_url(endpoint.url(db_index), socket_connect_timeout=5, socket_timeout=5)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        raise ServiceUnavailable(
            f"Redis at {endpoint.host}:{endpoint.port}: FLUSHDB on db {db_index} failed: {exc}",
            hint=f"db indexes run from 0 to {REDIS_DEFAULT_DATABASES - 1} on a default server",
        ) from exc
    finally:
        client.close()
    return endpoint.url(db_index)


# Commands a learner's Redis user may not run: they reach beyond the learner's own data or stop the server.
LEARNER_REDIS_DENIED = (
    "flushall", "config", "shutdown", "debug", "module", "acl", "save", "bgsave", "bgrewriteaof", "replicaof",
    "slaveof", "monitor", "sync", "psync", "failover", "swapdb", "migrate", "client",
)  # fmt: skip


def protect_redis_default_user(endpoint: RedisEndpoint) -> RedisEndpoint:
    """Gives the default user of a server this run owns a password, so only the grader is unrestricted."""
    if endpoint.password is not None:
        return endpoint
    password = secrets.token_urlsafe(16)
    client = redis.Redis.from_url(endpoint.url(), socket_connect_timeout=5, socket_timeout=5)
    try:
        client.acl_setuser("default", enabled=True, reset_passwords=True, passwords=[f"+{password}"])
    except redis.RedisError as exc:
        raise ServiceUnavailable(f"Redis at {endpoint.host}:{endpoint.port}: could not set a password: {exc}") from exc
    finally:
        client.close()
    return replace(endpoint, password=password)


def learner_redis_url(endpoint: RedisEndpoint, db_index: int) -> str:
    """A URL for logical db ``db_index`` as a new ACL user that may use data commands but none of
    ``LEARNER_REDIS_DENIED`` (Redis 6+). The user lives as long as the server, which lives for one run."""
    user, password = f"labkit_learner_{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    client = redis.Redis.from_url(endpoint.url(), socket_connect_timeout=5, socket_timeout=5)
    try:
        client.acl_setuser(
            user, enabled=True, passwords=[f"+{password}"], keys=["*"], channels=["*"],
            commands=["+@all", *(f"-{command}" for command in LEARNER_REDIS_DENIED)],
        )  # fmt: skip
    except redis.RedisError as exc:
        raise ServiceUnavailable(
            f"Redis at {endpoint.host}:{endpoint.port}: ACL SETUSER failed: {exc}", hint="Redis 6 or newer is needed"
        ) from exc
    finally:
        client.close()
    return f"redis://{quote(user, safe='')}:{quote(password, safe='')}@{endpoint.host}:{endpoint.port}/{db_index}"
