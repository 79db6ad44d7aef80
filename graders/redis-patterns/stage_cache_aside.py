"""Stage 1: cache-aside: a miss loads from the source and caches with a TTL, a hit does not load."""

from cachecheck import expect_key_error, expect_loads, expect_ttl, get_or_load, put_source, wait_until_gone
from labkit.checks import expect_equal, log

HOUR_MS = 3_600_000


def check_a_miss_loads_and_a_hit_is_served_from_the_cache(pool, db, rng):
    """A miss loads once and caches the value; a hit does not load"""
    driver, other = pool.ready(2)
    value = put_source(db, "user:1", rng)
    get_or_load(driver, "user:1", HOUR_MS, value, "a miss")
    expect_loads(db, {"user:1": 1}, "after one miss")
    expect_equal(db.get("cache:user:1"), value, "the value at cache:user:1 after the miss")
    db.set("source:user:1", "changed in the source")
    get_or_load(driver, "user:1", HOUR_MS, value, "a hit, in the same process")
    get_or_load(other, "user:1", HOUR_MS, value, "a hit, in another process")
    expect_loads(db, {"user:1": 1}, "after one miss and two hits")


def check_entries_expire_after_their_ttl(pool, db, rng):
    """A cached entry gets the TTL it was given, keeps it on a hit, and is loaded again once it expired"""
    (driver,) = pool.ready(1)
    value = put_source(db, "user:2", rng)
    get_or_load(driver, "user:2", 60_000, value, "a miss with ttl_ms=60000")
    expect_ttl(db, "cache:user:2", 60_000)
    db.pexpire("cache:user:2", 20_000)
    log("grader: PEXPIRE cache:user:2 20000")
    get_or_load(driver, "user:2", 60_000, value, "a hit")
    expect_ttl(db, "cache:user:2", 20_000, after="a hit (the grader had shortened the TTL to 20000 ms)")
    db.pexpire("cache:user:2", 50)
    log("grader: PEXPIRE cache:user:2 50")
    wait_until_gone(db, "cache:user:2", within=2.0)
    fresh = put_source(db, "user:2", rng)
    get_or_load(driver, "user:2", 60_000, fresh, "a miss after the entry expired")
    expect_loads(db, {"user:2": 2}, "after the entry expired and was asked for again")


def check_invalidate_removes_the_entry(pool, db, rng):
    """invalidate() removes the cached entry, so the next call loads the new value"""
    (driver,) = pool.ready(1)
    put_source(db, "user:3", rng)
    driver.call("get_or_load", "user:3", HOUR_MS, timeout=3.0)
    fresh = put_source(db, "user:3", rng)
    expect_equal(driver.call("invalidate", "user:3", timeout=3.0), True, "invalidate('user:3') of a cached key")
    expect_equal(db.exists("cache:user:3"), 0, "whether cache:user:3 exists after invalidate")
    get_or_load(driver, "user:3", HOUR_MS, fresh, "a miss after invalidate")
    never_cached = driver.call("invalidate", "user:404", timeout=3.0)
    expect_equal(never_cached, False, "invalidate('user:404') of a key never cached")


def check_a_value_missing_from_the_source_raises_and_is_not_cached(pool, db):
    """A key the source does not have raises KeyError and caches nothing"""
    (driver,) = pool.ready(1)
    expect_key_error(driver, "user:404", HOUR_MS)
    cached = db.keys("cache:*")
    expect_equal(cached, [], "the cache keys after a failed load", hint="cache nothing when source.load raises")
