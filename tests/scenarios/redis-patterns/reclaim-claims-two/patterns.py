"""Redis patterns: a cache, a rate limiter, a leaderboard, a lock with fencing and a reliable queue.

See README.md for the full specification. The grader imports this module in several processes at once and
calls the functions below; every process reaches the same Redis database through REDIS_URL.
"""

from __future__ import annotations

import os
import time
import uuid

import redis
import source

_client: redis.Redis | None = None


def client() -> redis.Redis:
    """One connection pool per process, opened on first use; replies are decoded to str."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    return _client


def new_token() -> str:
    return uuid.uuid4().hex


# Deletes KEYS[1] only if it still holds ARGV[1]: the check and the delete must be one step.
RELEASE_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

# ---------------------------------------------------------------------------------------------------------------
# Stages cache-aside and stampede
# ---------------------------------------------------------------------------------------------------------------

LOAD_LOCK_MS = 5_000  # a loader that dies leaves its lock behind for at most this long
WAIT_POLL_S = 0.02
WAIT_LIMIT_S = 8.0


def get_or_load(key: str, ttl_ms: int) -> str:
    """The cached value of ``key``; on a miss, exactly one caller loads it from the source and caches it."""
    redis_ = client()
    cache_key, lock_key = f"cache:{key}", f"loading:{key}"
    deadline = time.monotonic() + WAIT_LIMIT_S
    while True:
        value = redis_.get(cache_key)
        if value is not None:
            return value
        token = new_token()
        if redis_.set(lock_key, token, nx=True, px=LOAD_LOCK_MS):
            try:
                # Another loader may have filled the cache between our GET and our SET NX.
                value = redis_.get(cache_key)
                if value is None:
                    value = source.load(key)
                    redis_.set(cache_key, value, px=ttl_ms)
                return value
            finally:
                redis_.eval(RELEASE_IF_OWNER, 1, lock_key, token)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{key!r} was still being loaded after {WAIT_LIMIT_S} s")
        time.sleep(WAIT_POLL_S)


def invalidate(key: str) -> bool:
    """Removes the cached entry of ``key``; True if there was one."""
    return client().delete(f"cache:{key}") == 1


# ---------------------------------------------------------------------------------------------------------------
# Stage rate-limit
# ---------------------------------------------------------------------------------------------------------------

# A sliding-window log: one sorted-set member per admitted request, scored by its time in ms (Redis's clock).
SLIDING_WINDOW = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window_ms = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - window_ms)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], now_ms, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], window_ms)
    return 1
end
return 0
"""


def allow(client_id: str, limit: int, window_ms: int) -> bool:
    """True if this request is admitted: fewer than ``limit`` admitted in the last ``window_ms`` ms."""
    return client().eval(SLIDING_WINDOW, 1, f"rate:{client_id}", limit, window_ms, new_token()) == 1


# ---------------------------------------------------------------------------------------------------------------
# Stage leaderboard
# ---------------------------------------------------------------------------------------------------------------
# Scores are stored negated: ZRANGE then lists the best first and, among equal scores, names in ascending order.


def _board(board: str) -> str:
    return f"board:{board}"


def record_score(board: str, player: str, score: int) -> int:
    """Keeps the player's best score; returns it."""
    with client().pipeline(transaction=True) as pipe:
        pipe.zadd(_board(board), {player: -score}, lt=True)
        pipe.zscore(_board(board), player)
        _, stored = pipe.execute()
    return -int(stored)


def rank(board: str, player: str) -> int | None:
    """1 + the number of players with a strictly better score; None for a player without a score."""
    redis_ = client()
    stored = redis_.zscore(_board(board), player)
    if stored is None:
        return None
    return redis_.zcount(_board(board), "-inf", f"({stored}") + 1


def page(board: str, number: int, size: int) -> list[dict[str, object]]:
    """Page ``number`` (from 1) of ``size`` entries, best first; ties by name."""
    redis_ = client()
    start = (number - 1) * size
    entries = redis_.zrange(_board(board), start, start + size - 1, withscores=True)
    result: list[dict[str, object]] = []
    for offset, (player, stored) in enumerate(entries):
        if offset == 0:
            place = redis_.zcount(_board(board), "-inf", f"({stored}") + 1
        elif stored != entries[offset - 1][1]:
            place = start + offset + 1  # everyone before this entry has a strictly better score
        result.append({"player": player, "score": -int(stored), "rank": place})
    return result


# ---------------------------------------------------------------------------------------------------------------
# Stages lock and fencing
# ---------------------------------------------------------------------------------------------------------------

# Takes the lock and the next fence in one step, so fences follow the order in which the lock was taken.
ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return redis.call('INCR', KEYS[2])
end
return false
"""

FENCED_WRITE = """
local fence = redis.call('HGET', KEYS[1], 'fence')
if fence and tonumber(fence) > tonumber(ARGV[1]) then
    return 0
end
redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'value', ARGV[2])
return 1
"""


def acquire(name: str, ttl_ms: int) -> dict[str, object] | None:
    """Takes the lock if it is free: {"token": ..., "fence": ...}; None if somebody holds it."""
    token = new_token()
    fence = client().eval(ACQUIRE, 2, f"lock:{name}", f"fence:{name}", token, ttl_ms)
    if fence is None:
        return None
    return {"token": token, "fence": int(fence)}


def release(name: str, token: str) -> bool:
    """Releases the lock if ``token`` still owns it."""
    return client().eval(RELEASE_IF_OWNER, 1, f"lock:{name}", token) == 1


def fenced_write(resource: str, fence: int, value: str) -> bool:
    """Stores ``value`` unless a write with a higher fence was already accepted."""
    return client().eval(FENCED_WRITE, 1, f"resource:{resource}", fence, value) == 1


# ---------------------------------------------------------------------------------------------------------------
# Stages queue and crash-recovery: a stream with one consumer group
# ---------------------------------------------------------------------------------------------------------------

GROUP = "workers"
RECLAIM_SCAN_LIMIT = 100


def _stream(queue: str) -> str:
    return f"queue:{queue}"


def _ensure_group(stream: str) -> None:
    """Creates the group on first use (and again after the database was emptied)."""
    try:
        client().xgroup_create(stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def enqueue(queue: str, payload: str) -> str:
    stream = _stream(queue)
    _ensure_group(stream)
    return client().xadd(stream, {"payload": payload})


def take(queue: str, consumer: str, block_ms: int) -> dict[str, str] | None:
    """The oldest waiting job, now in flight with ``consumer``; waits up to ``block_ms`` for one."""
    stream = _stream(queue)
    _ensure_group(stream)
    options = {"block": block_ms} if block_ms > 0 else {}
    reply = client().xreadgroup(GROUP, consumer, {stream: ">"}, count=1, **options)
    if not reply:
        return None
    _, entries = reply[0]
    if not entries:
        return None
    job_id, fields = entries[0]
    return {"id": job_id, "payload": fields["payload"]}


# Acknowledges, then deletes the entry so that the stream does not grow forever; a waiting job is left alone.
ACK = """
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
    redis.call('XDEL', KEYS[1], ARGV[2])
    return 1
end
return 0
"""


def ack(queue: str, job_id: str) -> bool:
    """Marks an in-flight job done; False if it was not in flight."""
    return client().eval(ACK, 1, _stream(queue), GROUP, job_id) == 1


def reclaim(queue: str, consumer: str, min_idle_ms: int) -> dict[str, str] | None:
    """Hands ``consumer`` one job that has been in flight for at least ``min_idle_ms`` since its last delivery."""
    stream = _stream(queue)
    _ensure_group(stream)
    cursor = "0-0"
    for _ in range(RECLAIM_SCAN_LIMIT):
        reply = client().xautoclaim(stream, GROUP, consumer, min_idle_ms, start_id=cursor, count=2)
        cursor, entries = reply[0], reply[1]
        for job_id, fields in entries:
            if fields:  # an entry deleted while pending comes back without fields (Redis 6.2)
                return {"id": job_id, "payload": fields["payload"]}
        if cursor == "0-0":
            return None
    return None
