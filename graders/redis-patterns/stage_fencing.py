"""Stage 6: fencing tokens: every acquisition gets a higher fence, and storage refuses writes with stale ones."""

from labkit.checks import expect_equal, fail, log
from labkit.driver import Driver
from labkit.pool import call, describe, expect_answers
from lockcheck import Grant, expect_acquired, release, wait_for_grant
from verdicts import HINTS, expect_bools

TTL_MS = 10_000
COUNTER_HINT = (
    "take the fence from a counter that never expires and is never reset (INCR fence:<name>), in the same "
    "script that takes the lock"
)
STALE_HINT = (
    "fenced_write must refuse a fence lower than the highest one it accepted for that resource, comparing and "
    "writing in one step (a Lua script)"
)


def expect_higher(fence: int, previous: int, when: str, than: str = "the previous one") -> None:
    if fence <= previous:
        fail(
            f"the fence {when} is not higher than {than}",
            expected=f"a fence > {previous}",
            got=str(fence),
            hint=COUNTER_HINT,
        )


def take_after_expiry(driver: Driver, name: str) -> Grant:
    log(f"trying acquire({name!r}, {TTL_MS}) every 20 ms until the lock has expired")
    grant = wait_for_grant(driver, name, TTL_MS, within=2.0)
    if grant is None:
        fail(f"acquire({name!r}, ...) still failed 2 s after a lock with ttl_ms=100 was taken", hint="use PX")
    return grant


def fenced_write(driver, resource: str, fence: int, value: str) -> bool:
    accepted = driver.call("fenced_write", resource, fence, value, timeout=2.0)
    if not isinstance(accepted, bool):
        fail(f"fenced_write() returned {type(accepted).__name__}, not a bool", got=repr(accepted))
    return accepted


def check_fences_increase_with_every_acquisition(pool, db):
    """Every acquisition of a lock gets a higher fence, from any process, also after an expiry"""
    first, second = pool.ready(2)
    previous = 0
    for round_ in range(1, 7):
        driver = first if round_ % 2 else second
        grant = expect_acquired(driver, "job", TTL_MS, "its last owner released it")
        expect_higher(grant["fence"], previous, f"of acquisition {round_}")
        previous = grant["fence"]
        expect_equal(release(driver, "job", grant["token"]), True, "release() by the owner")
    grant = expect_acquired(first, "job", 100, "its last owner released it")
    expect_higher(grant["fence"], previous, "of acquisition 7 (ttl_ms=100)")
    after_expiry = take_after_expiry(second, "job")
    expect_higher(after_expiry["fence"], grant["fence"], "after the lock expired", than="the expired owner's")


def check_a_stale_fence_is_rejected(pool, db):
    """A write with the fence of an expired owner is refused once a newer owner wrote"""
    old, new = pool.ready(2)
    stale = expect_acquired(old, "ledger", 100, "nobody holds it")
    fresh = take_after_expiry(new, "ledger")
    expect_higher(fresh["fence"], stale["fence"], "of the new owner", than="the expired owner's")
    expect_equal(fenced_write(new, "ledger", fresh["fence"], "by the new owner"), True, "the new owner's write")
    if fenced_write(old, "ledger", stale["fence"], "by the expired owner"):
        fail(
            "fenced_write('ledger', <the expired owner's fence>, ...) returned True after the new owner had written "
            "with a higher fence",
            hint=STALE_HINT,
        )
    expect_equal(db.hget("resource:ledger", "value"), "by the new owner", "the value field of resource:ledger")
    expect_equal(
        fenced_write(new, "ledger", fresh["fence"], "again by the new owner"),
        True,
        "a second write with the same (highest) fence",
    )
    expect_equal(db.hget("resource:ledger", "fence"), str(fresh["fence"]), "the fence field of resource:ledger")
    # Fences are numbers: 10 is higher than 9, although "10" sorts before "9" as a string.
    expect_equal(fenced_write(new, "ticket", 9, "with fence 9"), True, "the first write to resource:ticket")
    if not fenced_write(new, "ticket", 10, "with fence 10"):
        fail(
            "fenced_write('ticket', 10, ...) returned False after a write with fence 9: 10 is the higher fence",
            hint="compare the fences as numbers (tonumber in Lua), not as strings: '10' < '9' as strings",
        )
    if fenced_write(old, "ticket", 9, "with fence 9 again"):
        fail(
            "fenced_write('ticket', 9, ...) returned True after a write with fence 10 was accepted",
            hint=STALE_HINT + "; compare the fences as numbers (tonumber in Lua), not as strings",
        )
    expect_equal(db.hget("resource:ticket", "value"), "with fence 10", "the value field of resource:ticket")


FIRST_CONCURRENT_FENCE = 12  # down to 5: the fences cross from two digits to one


def check_concurrent_fenced_writes_keep_the_highest_fence(pool, db, gate):
    """Concurrent writes with fences 12 down to 5: the write with fence 12 wins"""
    fences = list(range(FIRST_CONCURRENT_FENCE, FIRST_CONCURRENT_FENCE - pool.size, -1))
    calls = [call("fenced_write", "balance", fence, f"written with fence {fence}") for fence in fences]
    outcomes = pool.run(calls, gate=gate, in_order=True)
    expect_answers(outcomes, hints=HINTS)
    expect_bools(outcomes)
    value = db.hget("resource:balance", "value")
    highest, lowest = fences[0], fences[-1]
    # Whatever order the held writes run in, the highest fence is accepted and every write after it is stale.
    # Held in descending order, a store that reads the fence and writes afterwards ends with the last (lowest)
    # one; a store that compares fences as strings takes 9 for higher than 12.
    if outcomes[0].value is not True or value != f"written with fence {highest}":
        fail(
            f"after concurrent writes with fences {highest} down to {lowest} (in that order), resource:balance "
            f"holds {value!r}",
            expected=f"fence {highest} accepted, value 'written with fence {highest}'",
            got=describe(outcomes),
            hint=STALE_HINT + "; reading the fence and writing afterwards lets an older write overwrite a newer one",
        )
