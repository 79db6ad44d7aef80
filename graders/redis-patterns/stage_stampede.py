"""Stage 2: a cache stampede: many processes miss the same key at once, and the source is loaded once.

The misses are lined up behind the grader's write gate (see gate.py): every caller has read the cache and seen
the miss before any of them can write anything, so an implementation without a per-key lock loads every time.
"""

from cachecheck import expect_key_error, expect_loads, expect_ttl, most_loads_at_once, put_source
from labkit.checks import expect, expect_equal, fail
from labkit.pool import call, expect_answers
from verdicts import HINTS

TTL_MS = 60_000
STAMPEDE_HINT = (
    "only the caller that gets a per-key lock (SET loading:<key> <token> NX PX <ms>) may load; the others wait "
    "for cache:<key> to appear and return it, without loading themselves while the lock is held"
)


def check_concurrent_misses_of_one_key_load_it_once(pool, db, gate, rng):
    """Eight processes missing the same key at once load it once and all get the value"""
    value = put_source(db, "product:7", rng)
    outcomes = pool.run([call("get_or_load", "product:7", TTL_MS)] * pool.size, gate=gate)
    expect_answers(outcomes, hints=HINTS)
    expect_loads(db, {"product:7": 1}, f"after {pool.size} concurrent misses of the same key", hint=STAMPEDE_HINT)
    for result in outcomes:
        expect_equal(result.value, value, f"what {result.call} returned")
    expect_ttl(db, "cache:product:7", TTL_MS, after=f"{pool.size} concurrent misses")


def check_misses_of_different_keys_load_in_parallel(pool, db, gate, rng):
    """Concurrent misses of different keys are loaded at the same time, not one after another"""
    keys = [f"product:{n}" for n in range(1, pool.size + 1)]
    values = [put_source(db, key, rng) for key in keys]
    outcomes = pool.run([call("get_or_load", key, TTL_MS) for key in keys], gate=gate)
    expect_answers(outcomes, hints=HINTS)
    for result, value in zip(outcomes, values, strict=True):
        expect_equal(result.value, value, f"what {result.call} returned")
    expect_loads(db, dict.fromkeys(keys, 1), f"after concurrent misses of {pool.size} different keys")
    expect(
        most_loads_at_once(db) > 1,
        f"the loads of {pool.size} different keys ran one after another, never two at the same time",
        hint="lock per key (loading:<key>), not one lock for the whole cache: a miss on one key must not wait "
        "for the load of another",
    )


def check_a_failed_load_does_not_block_the_next_caller(pool, db, rng):
    """After a load that raised, the next caller loads at once instead of waiting for a stale lock"""
    first, _ = pool.ready(2)
    expect_key_error(first, "product:9", TTL_MS)
    value = put_source(db, "product:9", rng)
    after = pool.outcome(1, call("get_or_load", "product:9", TTL_MS), within=2.0)
    if after.failure is not None:
        fail(
            f"after a load of 'product:9' raised, the next call waited: {after.failure.message}",
            hint="release the load lock in a finally block: a load that raised must not leave its lock behind "
            "until it expires",
        )
    expect_answers([after], hints=HINTS)
    expect_equal(after.value, value, "get_or_load('product:9', ...) once the source has the value")
