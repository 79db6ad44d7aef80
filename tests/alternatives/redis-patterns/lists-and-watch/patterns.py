"""A second correct design, different from the reference wherever the spec leaves a choice.

- stampede: waiters block on a notification list (BLMOVE of a list onto itself) instead of polling;
- rate limit: WATCH/MULTI/EXEC retried on conflict, with the process clock, instead of a Lua script;
- leaderboard: real scores (ZADD GT) and ties sorted in Python, instead of negated scores;
- lock release and fenced writes: optimistic transactions instead of scripts;
- queue: lists (LMOVE to a processing list, leases in a sorted set) instead of a stream and a consumer group.
"""

from __future__ import annotations

import os
import time
import uuid

import redis
import source

_client: redis.Redis | None = None
RETRIES = 100


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    return _client


def now_ms() -> float:
    return time.time() * 1000


# Cache --------------------------------------------------------------------------------------------------------

LOCK_MS = 3_000
NOTICE_MS = 1_000


def get_or_load(key: str, ttl_ms: int) -> str:
    r = client()
    cache, lock, done = f"cache:{key}", f"loading:{key}", f"loaded:{key}"
    deadline = time.monotonic() + 8.0
    while time.monotonic() < deadline:
        value = r.get(cache)
        if value is not None:
            return value
        token = uuid.uuid4().hex
        if r.set(lock, token, nx=True, px=LOCK_MS):
            try:
                value = r.get(cache)
                if value is None:
                    value = source.load(key)
                    with r.pipeline(transaction=True) as pipe:
                        pipe.set(cache, value, px=ttl_ms)
                        pipe.lpush(done, "1")
                        pipe.pexpire(done, NOTICE_MS)
                        pipe.execute()
                return value
            finally:
                _delete_if(lock, token)
        # Rotating the notice list onto itself waits for it to appear without consuming it.
        r.blmove(done, done, 0.05, "RIGHT", "LEFT")
    raise TimeoutError(key)


def invalidate(key: str) -> bool:
    return client().unlink(f"cache:{key}") == 1


def _delete_if(key: str, token: str) -> bool:
    with client().pipeline(transaction=True) as pipe:
        for _ in range(RETRIES):
            try:
                pipe.watch(key)
                if pipe.get(key) != token:
                    pipe.unwatch()
                    return False
                pipe.multi()
                pipe.delete(key)
                pipe.execute()
                return True
            except redis.WatchError:
                continue
    raise RuntimeError(f"{key} kept changing")


# Rate limit ---------------------------------------------------------------------------------------------------


def allow(client_id: str, limit: int, window_ms: int) -> bool:
    key = f"rate:{client_id}"
    with client().pipeline(transaction=True) as pipe:
        for _ in range(RETRIES):
            try:
                pipe.watch(key)
                now = now_ms()
                if pipe.zcount(key, f"({now - window_ms}", "+inf") >= limit:
                    pipe.unwatch()
                    return False
                pipe.multi()
                pipe.zremrangebyscore(key, "-inf", now - window_ms)
                pipe.zadd(key, {uuid.uuid4().hex: now})
                pipe.pexpire(key, window_ms)
                pipe.execute()
                return True
            except redis.WatchError:
                continue
    raise RuntimeError("too much contention")


# Leaderboard --------------------------------------------------------------------------------------------------


def _key(board: str) -> str:
    return f"scores:{board}"


def record_score(board: str, player: str, score: int) -> int:
    r = client()
    r.zadd(_key(board), {player: score}, gt=True)
    return int(r.zscore(_key(board), player))


def rank(board: str, player: str) -> int | None:
    r = client()
    score = r.zscore(_key(board), player)
    return None if score is None else r.zcount(_key(board), f"({score}", "+inf") + 1


def page(board: str, number: int, size: int) -> list[dict[str, object]]:
    r = client()
    start = (number - 1) * size
    edge = r.zrevrange(_key(board), start, start + size - 1, withscores=True)
    if not edge:
        return []
    high, low = edge[0][1], edge[-1][1]
    above = r.zcount(_key(board), f"({high}", "+inf")
    group = sorted(r.zrangebyscore(_key(board), low, high, withscores=True), key=lambda e: (-e[1], e[0]))
    first_of: dict[float, int] = {}
    for index, (_, score) in enumerate(group):
        first_of.setdefault(score, above + index + 1)
    chosen = group[start - above : start - above + size]
    return [{"player": player, "score": int(score), "rank": first_of[score]} for player, score in chosen]


# Lock and fencing ---------------------------------------------------------------------------------------------

ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return redis.call('INCR', KEYS[2])
end
return false
"""


def acquire(name: str, ttl_ms: int) -> dict[str, object] | None:
    token = uuid.uuid4().hex
    fence = client().eval(ACQUIRE, 2, f"lock:{name}", f"fences:{name}", token, ttl_ms)
    return None if fence is None else {"token": token, "fence": int(fence)}


def release(name: str, token: str) -> bool:
    return _delete_if(f"lock:{name}", token)


def fenced_write(resource: str, fence: int, value: str) -> bool:
    key = f"resource:{resource}"
    with client().pipeline(transaction=True) as pipe:
        for _ in range(RETRIES):
            try:
                pipe.watch(key)
                stored = pipe.hget(key, "fence")
                if stored is not None and int(stored) > fence:
                    pipe.unwatch()
                    return False
                pipe.multi()
                pipe.hset(key, mapping={"fence": fence, "value": value})
                pipe.execute()
                return True
            except redis.WatchError:
                continue
    raise RuntimeError("too much contention")


# Queue: waiting list -> processing list (LMOVE), a lease per job in flight --------------------------------------


def _q(queue: str, part: str) -> str:
    return f"q:{queue}:{part}"


def enqueue(queue: str, payload: str) -> str:
    r = client()
    job_id = str(r.incr(_q(queue, "seq")))
    with r.pipeline(transaction=True) as pipe:
        pipe.hset(_q(queue, "jobs"), job_id, payload)
        pipe.lpush(_q(queue, "waiting"), job_id)
        pipe.execute()
    return job_id


def take(queue: str, consumer: str, block_ms: int) -> dict[str, str] | None:
    r = client()
    waiting, processing = _q(queue, "waiting"), _q(queue, "processing")
    if block_ms > 0:
        job_id = r.blmove(waiting, processing, block_ms / 1000, "RIGHT", "LEFT")
    else:
        job_id = r.lmove(waiting, processing, "RIGHT", "LEFT")
    if job_id is None:
        return None
    # A consumer that dies before this line leaves a job without a lease: reclaim gives it one.
    r.zadd(_q(queue, "leases"), {job_id: now_ms()})
    return {"id": job_id, "payload": r.hget(_q(queue, "jobs"), job_id)}


ACK = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
    redis.call('ZREM', KEYS[2], ARGV[1])
    redis.call('HDEL', KEYS[3], ARGV[1])
    return 1
end
return 0
"""


def ack(queue: str, job_id: str) -> bool:
    keys = (_q(queue, "processing"), _q(queue, "leases"), _q(queue, "jobs"))
    return client().eval(ACK, 3, *keys, job_id) == 1


RECLAIM = """
local now_ms = tonumber(ARGV[2])
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
    local lease = redis.call('ZSCORE', KEYS[2], id)
    if not lease then
        redis.call('ZADD', KEYS[2], now_ms, id)
    elseif now_ms - tonumber(lease) >= tonumber(ARGV[1]) then
        redis.call('ZADD', KEYS[2], now_ms, id)
        return {id, redis.call('HGET', KEYS[3], id)}
    end
end
return false
"""


def reclaim(queue: str, consumer: str, min_idle_ms: int) -> dict[str, str] | None:
    keys = (_q(queue, "processing"), _q(queue, "leases"), _q(queue, "jobs"))
    found = client().eval(RECLAIM, 3, *keys, min_idle_ms, now_ms())
    return None if found is None else {"id": found[0], "payload": found[1]}
