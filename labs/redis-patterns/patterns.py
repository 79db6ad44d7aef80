"""Redis patterns: a cache, a rate limiter, a leaderboard, a lock with fencing and a reliable queue.

See README.md for the full specification. The grader imports this module in several processes at once and
calls the functions below; every process reaches the same Redis database through the URL in REDIS_URL.
redis-py is installed with labkit.
"""

from __future__ import annotations

import os

import redis
import source  # noqa: F401  (provided: source.load(key) is the slow data source behind the cache)

_client: redis.Redis | None = None


def client() -> redis.Redis:
    """One client (and connection pool) per process, opened on first use; replies are decoded to str."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    return _client


# Stages cache-aside and stampede ----------------------------------------------------------------------------


def get_or_load(key: str, ttl_ms: int) -> str:
    """The value of ``key``: from cache:<key>, or else from source.load(key), then cached for ttl_ms ms."""
    # TODO (cache-aside): read the cache; on a miss, load and SET cache:<key> with PX ttl_ms.
    # TODO (stampede): let only one caller at a time load a given key; the others wait for the cache.
    raise NotImplementedError("TODO: get_or_load (see README.md, stage cache-aside)")


def invalidate(key: str) -> bool:
    """Removes cache:<key>; True if it existed."""
    raise NotImplementedError("TODO: invalidate (see README.md, stage cache-aside)")


# Stage rate-limit -------------------------------------------------------------------------------------------


def allow(client_id: str, limit: int, window_ms: int) -> bool:
    """True if this request of ``client_id`` is admitted: fewer than ``limit`` admitted in the last window_ms."""
    raise NotImplementedError("TODO: allow (see README.md, stage rate-limit)")


# Stage leaderboard ------------------------------------------------------------------------------------------


def record_score(board: str, player: str, score: int) -> int:
    """Keeps the player's best score on ``board``; returns that best score."""
    raise NotImplementedError("TODO: record_score (see README.md, stage leaderboard)")


def rank(board: str, player: str) -> int | None:
    """1 + the number of players with a strictly higher score; None if the player has no score."""
    raise NotImplementedError("TODO: rank (see README.md, stage leaderboard)")


def page(board: str, number: int, size: int) -> list[dict[str, object]]:
    """Page ``number`` (from 1) of ``size`` entries {"player", "score", "rank"}, best first, ties by name."""
    raise NotImplementedError("TODO: page (see README.md, stage leaderboard)")


# Stages lock and fencing ------------------------------------------------------------------------------------


def acquire(name: str, ttl_ms: int) -> dict[str, object] | None:
    """Takes lock:<name> for ttl_ms if it is free: {"token": str, "fence": int}; None if it is held."""
    raise NotImplementedError("TODO: acquire (see README.md, stage lock)")


def release(name: str, token: str) -> bool:
    """Releases lock:<name> if ``token`` still owns it; True if it did."""
    raise NotImplementedError("TODO: release (see README.md, stage lock)")


def fenced_write(resource: str, fence: int, value: str) -> bool:
    """Stores ``value`` in resource:<resource> unless a higher fence was accepted before; True if stored."""
    raise NotImplementedError("TODO: fenced_write (see README.md, stage fencing)")


# Stages queue and crash-recovery ----------------------------------------------------------------------------


def enqueue(queue: str, payload: str) -> str:
    """Adds a job; returns its id."""
    raise NotImplementedError("TODO: enqueue (see README.md, stage queue)")


def take(queue: str, consumer: str, block_ms: int) -> dict[str, str] | None:
    """The oldest waiting job, now in flight with ``consumer``: {"id", "payload"}; None if none came in block_ms."""
    raise NotImplementedError("TODO: take (see README.md, stage queue)")


def ack(queue: str, job_id: str) -> bool:
    """Marks an in-flight job done; True if it was in flight."""
    raise NotImplementedError("TODO: ack (see README.md, stage queue)")


def reclaim(queue: str, consumer: str, min_idle_ms: int) -> dict[str, str] | None:
    """Hands ``consumer`` a job in flight for at least min_idle_ms since its last delivery; None if there is none."""
    raise NotImplementedError("TODO: reclaim (see README.md, stage crash-recovery)")
