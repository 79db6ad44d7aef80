"""Stage 3: an exact sliding-window rate limiter, on its own and under concurrent callers."""

import time

from labkit.checks import fail, log
from labkit.driver import Driver
from labkit.pool import call, describe, expect_answers
from verdicts import HINTS, expect_bools
from window import Request, judge

HOUR_MS = 3_600_000
CALL_TIMEOUT_S = 2.0
ATTEMPTS = 3
# limit 3 per 500 ms: one request, a burst just before the first leaves the window, another just after.
SLIDING_LIMIT, SLIDING_WINDOW_MS = 3, 500
SCHEDULE = ((0, 1), (350, 3), (600, 3))
TOO_MANY_HINT = (
    "the window slides: count the requests admitted in (now - window_ms, now], e.g. in a sorted set scored by "
    "time; a fixed window (one counter per time slot) admits up to twice the limit around a slot boundary"
)
TOO_FEW_HINT = (
    "count only admitted requests: a denied request must not be recorded, or a client that keeps retrying "
    "stays locked out; and drop entries once they are window_ms old"
)
ATOMIC_HINT = (
    "counting and recording must be one atomic step: a Lua script (EVAL), or WATCH/MULTI/EXEC retried on "
    "conflict; give every request its own sorted-set member, even within one millisecond"
)


def allow(driver: Driver, client: str, limit: int, window_ms: int) -> bool:
    admitted = driver.call("allow", client, limit, window_ms, timeout=CALL_TIMEOUT_S)
    if not isinstance(admitted, bool):
        fail(
            f"allow({client!r}, {limit}, {window_ms}) returned {type(admitted).__name__}, not a bool",
            got=repr(admitted),
            hint="return True when the request is admitted and False when it is denied",
        )
    return admitted


def check_admits_up_to_the_limit_then_denies(pool, db):
    """Admits `limit` requests in a window, denies the next ones, and counts each client separately"""
    (driver,) = pool.ready(1)
    expect_sequence(driver, "alice", 3, [True, True, True, False, False])
    expect_sequence(driver, "bob", 3, [True])
    expect_sequence(driver, "carol", 1, [True, False])
    expect_sequence(driver, "alice", 3, [False], admitted_before=3)


def expect_sequence(driver: Driver, client: str, limit: int, expected: list[bool], admitted_before: int = 0) -> None:
    """Requests of one client, a few ms apart (requests in the same millisecond are the concurrency check's)."""
    for want in expected:
        time.sleep(0.002)
        got = allow(driver, client, limit, HOUR_MS)
        if got != want:
            fail(
                f"allow({client!r}, {limit}, {HOUR_MS}) was {'admitted' if got else 'denied'} with "
                f"{admitted_before} request(s) of {client!r} admitted before it in the window",
                expected="admitted" if want else "denied",
                got="admitted" if got else "denied",
                hint="admit a request when fewer than limit requests of the same client were admitted in the last "
                "window_ms; each client has its own window",
            )
        admitted_before += got


def run_schedule(driver: Driver, client: str) -> list[Request]:
    requests = []
    start = time.monotonic()
    for at_ms, count in SCHEDULE:
        time.sleep(max(0.0, start + at_ms / 1000 - time.monotonic()))
        for n in range(1, count + 1):
            time.sleep(0.002)  # requests in the same millisecond are the concurrency check's business
            sent = time.monotonic()
            admitted = allow(driver, client, SLIDING_LIMIT, SLIDING_WINDOW_MS)
            requests.append(Request(f"+{at_ms} ms #{n}", sent, time.monotonic(), admitted))
    return requests


def check_the_window_slides_and_only_admitted_requests_count(pool, db):
    """The window slides with time, and denied requests do not count against the client"""
    (driver,) = pool.ready(1)
    plan = "; ".join(f"+{at} ms: {count} request{'s' if count > 1 else ''}" for at, count in SCHEDULE)
    expected = f"limit {SLIDING_LIMIT} per {SLIDING_WINDOW_MS} ms, requests at {plan}"
    for attempt in range(1, ATTEMPTS + 1):
        requests = run_schedule(driver, f"slide-{attempt}")
        verdict = judge(requests, SLIDING_LIMIT, SLIDING_WINDOW_MS / 1000)
        observed = ", ".join(f"{r.label} {'admitted' if r.admitted else 'denied'}" for r in requests)
        if verdict.wrong is not None:
            wrong = verdict.wrong
            fail(
                f"the request at {wrong.label} was {'admitted' if wrong.admitted else 'denied'}, but {verdict.reason}",
                expected=expected,
                got=observed,
                hint=TOO_MANY_HINT if wrong.admitted else TOO_FEW_HINT,
            )
        if not verdict.ambiguous:
            return
        log(f"attempt {attempt}: calls too slow to judge every request; running the schedule again")
    fail(
        f"your allow() calls were too slow to judge a {SLIDING_WINDOW_MS} ms window in {ATTEMPTS} attempts",
        hint="allow() must answer within a few milliseconds: one round trip to Redis (a script), no sleeps",
    )


def check_concurrent_requests_never_exceed_the_limit(pool, db, gate):
    """Concurrent requests from several processes admit exactly `limit`, never more"""
    outcomes = pool.run([call("allow", "crowd", 3, HOUR_MS)] * pool.size, gate=gate)
    expect_answers(outcomes, hints=HINTS)
    expect_bools(outcomes)
    expect_exactly(sum(outcome.value is True for outcome in outcomes), 3, pool.size, describe(outcomes))
    flat = pool.run([call("allow", "swarm", 20, HOUR_MS)] * pool.size, rounds=8)
    expect_answers(flat, hints=HINTS)
    expect_bools(flat)
    expect_exactly(sum(outcome.value is True for outcome in flat), 20, len(flat), f"{len(flat)} requests")


def expect_exactly(admitted: int, limit: int, sent: int, got: str) -> None:
    if admitted > limit:
        fail(
            f"{sent} concurrent requests against a limit of {limit} per hour: {admitted} were admitted",
            expected=f"exactly {limit} admitted",
            got=got,
            hint=ATOMIC_HINT,
        )
    if admitted < limit:
        fail(
            f"{sent} concurrent requests against a limit of {limit} per hour: only {admitted} were admitted",
            expected=f"exactly {limit} admitted",
            got=got,
            hint="a request may be denied only when the window is full; if a WATCHed transaction fails, run it "
            "again instead of denying the request",
        )
