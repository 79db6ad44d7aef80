"""What the cache stages observe: the source's load log, cache entries and their TTLs."""

from __future__ import annotations

import random
from collections import Counter
from typing import cast

import redis

from labkit.checks import expect_equal, fail, log
from labkit.driver import Driver, LearnerRaised
from labkit.wait import expect_within
from verdicts import HINTS

CALL_TIMEOUT_S = 3.0
TTL_SLACK_MS = 5_000  # how far below ttl_ms a fresh entry's PTTL may be (the calls in between take time)


def put_source(db: redis.Redis, key: str, rng: random.Random) -> str:
    """Gives the source a new random value for ``key``."""
    value = f"value-{rng.randrange(16**8):08x}"
    db.set(f"source:{key}", value)
    log(f"grader: SET source:{key} {value}")
    return value


def expect_key_error(driver: Driver, key: str, ttl_ms: int) -> None:
    """get_or_load of a key the source does not have raises KeyError (from source.load)."""
    what = f"get_or_load({key!r}, {ttl_ms})"
    try:
        value = driver.call("get_or_load", key, ttl_ms, timeout=CALL_TIMEOUT_S)
    except LearnerRaised as raised:
        if raised.type_name != "KeyError":
            fail(
                f"{what} raised {raised.type_name} instead of KeyError: {raised.text}",
                got=raised.got,
                hint=HINTS.get(raised.type_name, "let the KeyError of source.load propagate unchanged"),
            )
        return
    fail(
        f"{what} returned instead of raising KeyError, although the source has no {key!r}",
        expected="KeyError, from source.load",
        got=repr(value),
        hint="let the KeyError of source.load propagate; a missing value is not a value to cache",
    )


def get_or_load(driver: Driver, key: str, ttl_ms: int, expected: str, what: str) -> None:
    got = driver.call("get_or_load", key, ttl_ms, timeout=CALL_TIMEOUT_S)
    expect_equal(got, expected, f"get_or_load({key!r}, {ttl_ms}) on {what}")


def source_log(db: redis.Redis) -> list[str]:
    """The source's log of loads begun and ended; the grader's clients decode responses to str."""
    return cast(list[str], db.lrange("source:log", 0, -1))


def loads(db: redis.Redis) -> Counter[str]:
    """How many loads of each key began, from the source's log."""
    return Counter(entry.split(" ", 1)[1] for entry in source_log(db) if entry.startswith("start "))


def most_loads_at_once(db: redis.Redis) -> int:
    """The largest number of loads that were running at the same moment."""
    running = most = 0
    for entry in source_log(db):
        running += 1 if entry.startswith("start ") else -1
        most = max(most, running)
    return most


def expect_loads(db: redis.Redis, expected: dict[str, int], when: str, *, hint: str | None = None) -> None:
    """Each key was loaded exactly as often as ``expected`` says (the message names the first key that was not)."""
    counted = loads(db)
    for key, count in expected.items():
        got = counted.get(key, 0)
        if got != count:
            if got == 0:
                how = "never ran"
            elif count == 1:
                how = "ran more than once"
            else:
                how = f"ran {'more' if got > count else 'less'} often than the {count} times expected"
            fail(
                f"{when}, source.load({key!r}) {how}",
                expected=repr(expected),
                got=repr(dict(counted)),
                hint=hint or "call source.load only on a miss, and cache what it returns",
            )


def expect_ttl(db: redis.Redis, key: str, ttl_ms: int, *, after: str = "the miss") -> None:
    """``key`` exists with a TTL of at most ``ttl_ms`` and not much less."""
    remaining = db.pttl(key)
    if remaining == -2:
        fail(f"{key} does not exist after {after}", hint="store the value at cache:<key>, exactly that key name")
    if remaining == -1:
        fail(
            f"{key} has no TTL after {after}: it would stay in the cache forever",
            expected=f"a TTL of {ttl_ms} ms",
            got="no expiry (PTTL -1)",
            hint="set the value and its TTL in one command: SET cache:<key> value PX ttl_ms",
        )
    if remaining > ttl_ms:
        fail(
            f"{key} has a TTL longer than {ttl_ms} ms after {after}",
            expected=f"at most {ttl_ms} ms",
            got=f"{remaining} ms",
            hint="ttl_ms is in milliseconds: use PX or PEXPIRE, not EX or EXPIRE; a hit must not extend the TTL",
        )
    if remaining < ttl_ms - TTL_SLACK_MS:
        fail(
            f"{key} has a TTL much shorter than {ttl_ms} ms after {after}",
            expected=f"close to {ttl_ms} ms",
            got=f"{remaining} ms",
            hint="pass ttl_ms unchanged as the TTL, in milliseconds (PX)",
        )


def wait_until_gone(db: redis.Redis, key: str, within: float) -> None:
    expect_within(lambda: not db.exists(key), within, f"{key} did not expire within {within:g} s")
