"""Calling the lock functions and reading what they return, for the lock and fencing stages."""

from __future__ import annotations

from typing import TypedDict, cast

import redis

from labkit.checks import expect_equal, fail
from labkit.driver import Driver
from labkit.wait import until

CALL_TIMEOUT_S = 2.0
TTL_READ_ALLOWANCE_MS = 3_000  # how long the grader may take to read a lock's TTL after acquire() returned


class Grant(TypedDict):
    """What acquire() returns when it took the lock."""

    token: str
    fence: int


def expect_grant(value: object, what: str) -> Grant | None:
    """``value`` as acquire() must return it: None, or {"token": non-empty str, "fence": int}."""
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("token"), str)
        or not value["token"]
        or not isinstance(value.get("fence"), int)
        or isinstance(value.get("fence"), bool)
    ):
        fail(
            f"{what} must return None or a dict with a non-empty str 'token' and an int 'fence'",
            got=repr(value),
            hint='return {"token": token, "fence": fence} when the lock was taken, None when it is held',
        )
    return cast(Grant, value)  # its shape was checked above


def acquire(driver: Driver, name: str, ttl_ms: int) -> Grant | None:
    what = f"acquire({name!r}, {ttl_ms})"
    return expect_grant(driver.call("acquire", name, ttl_ms, timeout=CALL_TIMEOUT_S), what)


def expect_acquired(driver: Driver, name: str, ttl_ms: int, why: str) -> Grant:
    grant = acquire(driver, name, ttl_ms)
    if grant is None:
        fail(f"acquire({name!r}, {ttl_ms}) returned None although {why}")
    return grant


def expect_refused(driver: Driver, name: str, ttl_ms: int, why: str, hint: str | None = None) -> None:
    grant = acquire(driver, name, ttl_ms)
    if grant is not None:
        fail(f"acquire({name!r}, {ttl_ms}) took the lock although {why}", got=repr(grant), hint=hint)


def release(driver: Driver, name: str, token: str) -> bool:
    released = driver.call("release", name, token, timeout=CALL_TIMEOUT_S)
    if not isinstance(released, bool):
        fail(f"release({name!r}, ...) returned {type(released).__name__}, not a bool", got=repr(released))
    return released


def expect_holder(db: redis.Redis, name: str, token: str, when: str, hint: str | None = None) -> None:
    expect_equal(db.get(f"lock:{name}"), token, f"the value of lock:{name} {when} (the owner's token)", hint=hint)


def expect_lock_ttl(db: redis.Redis, name: str, ttl_ms: int) -> None:
    remaining = db.pttl(f"lock:{name}")
    if remaining == -2:
        fail(f"lock:{name} does not exist after a successful acquire", hint="keep the lock at lock:<name>")
    if remaining == -1:
        fail(
            f"lock:{name} has no expiry: if its owner crashes, nobody can ever take the lock again",
            expected=f"a TTL of {ttl_ms} ms",
            got="no expiry (PTTL -1)",
            hint="take the lock and its expiry in one command: SET lock:<name> <token> NX PX <ttl_ms>",
        )
    if remaining > ttl_ms:
        fail(
            f"lock:{name} expires later than ttl_ms={ttl_ms} after it was taken",
            got=f"PTTL {remaining}",
            hint="ttl_ms is in milliseconds: PX, not EX",
        )
    # Read right after acquire() returned; only a TTL long enough to outlast a slow reply is judged from below.
    if remaining < ttl_ms - TTL_READ_ALLOWANCE_MS:
        fail(
            f"lock:{name} expires sooner than ttl_ms={ttl_ms} after it was taken",
            expected=f"a PTTL between {ttl_ms - TTL_READ_ALLOWANCE_MS} and {ttl_ms} right after acquire() returned",
            got=f"PTTL {remaining}",
            hint="give the lock a TTL of exactly ttl_ms milliseconds: SET lock:<name> <token> NX PX <ttl_ms>",
        )


def wait_for_grant(driver: Driver, name: str, ttl_ms: int, within: float) -> Grant | None:
    """Tries to take the lock every 20 ms for ``within`` seconds."""
    return until(
        lambda: expect_grant(driver.call("acquire", name, ttl_ms, timeout=CALL_TIMEOUT_S, quiet=True), "acquire()"),
        within,
        interval=0.02,
    )
