"""Stage 5: a lock: one owner at a time, released only by its owner, freed by its expiry."""

from labkit.checks import expect_equal, fail, log
from labkit.pool import call, describe, expect_answers
from lockcheck import (
    acquire,
    expect_acquired,
    expect_grant,
    expect_holder,
    expect_lock_ttl,
    expect_refused,
    release,
    wait_for_grant,
)
from verdicts import HINTS

TTL_MS = 10_000
OWNER_HINT = (
    "release must delete lock:<name> only if it still holds the caller's token, in one step: "
    "a Lua script that GETs, compares and DELs"
)


def check_one_owner_at_a_time(pool, db, gate):
    """Eight processes acquiring one lock at the same moment: exactly one gets it"""
    drivers = pool.ready()
    outcomes = pool.run([call("acquire", "report", TTL_MS)] * pool.size, gate=gate)
    expect_answers(outcomes, hints=HINTS)
    grants = [expect_grant(outcome.value, str(outcome.call)) for outcome in outcomes]
    winners = [(index, grant) for index, grant in enumerate(grants) if grant is not None]
    if len(winners) != 1:
        fail(
            f"{len(winners)} of {pool.size} concurrent acquire('report', {TTL_MS}) calls got the lock",
            expected="exactly 1",
            got=describe(outcomes),
            hint="take the lock with one command, SET lock:<name> <token> NX PX <ttl_ms>: a GET followed by a SET "
            "lets every caller that read before the first SET in",
        )
    index, grant = winners[0]
    expect_holder(db, "report", grant["token"], "after it was taken")
    expect_lock_ttl(db, "report", TTL_MS)
    expect_refused(drivers[(index + 1) % pool.size], "report", TTL_MS, "it is held")
    expect_equal(release(drivers[index], "report", grant["token"]), True, "release() by the owner")
    expect_equal(db.exists("lock:report"), 0, "whether lock:report exists after its owner released it")
    expect_acquired(drivers[(index + 1) % pool.size], "report", TTL_MS, "its owner released it")


def check_only_the_owner_can_release(pool, db):
    """release() with somebody else's token changes nothing"""
    owner, other = pool.ready(2)
    grant = expect_acquired(owner, "printer", TTL_MS, "nobody holds it")
    if release(other, "printer", "not-" + grant["token"]):
        fail(
            "release('printer', <a token that is not the owner's>) returned True: a process that does not hold "
            "the lock released it",
            hint=OWNER_HINT,
        )
    expect_holder(db, "printer", grant["token"], "after somebody else tried to release it", hint=OWNER_HINT)
    expect_refused(other, "printer", TTL_MS, "its owner still holds it")
    expect_equal(release(owner, "printer", grant["token"]), True, "release() by the owner")
    expect_equal(release(owner, "printer", grant["token"]), False, "a second release() with the same token")
    expect_acquired(other, "printer", TTL_MS, "its owner released it")


def check_a_lock_expires(pool, db):
    """A lock frees itself after ttl_ms; its former owner can no longer release it"""
    owner, other = pool.ready(2)
    grant = expect_acquired(owner, "cron", 200, "nobody holds it")
    expect_lock_ttl(db, "cron", 200)
    log("trying acquire('cron', 10000) every 20 ms until it succeeds")
    successor = wait_for_grant(other, "cron", TTL_MS, within=2.0)
    if successor is None:
        fail("acquire('cron', ...) still failed 2 s after a lock with ttl_ms=200 was taken", hint="use PX ttl_ms")
    if release(owner, "cron", grant["token"]):
        fail(
            "release('cron', <the expired owner's token>) returned True after somebody else had taken the lock: "
            "the former owner released the new owner's lock",
            hint=OWNER_HINT,
        )
    expect_holder(db, "cron", successor["token"], "after the expired owner tried to release it", hint=OWNER_HINT)
    expect_equal(acquire(owner, "cron", TTL_MS), None, "acquire('cron', ...) by the former owner")
