"""Stage 2: exactly LIMIT attempts in flight (not one at a time, not all at once), and no slot left idle.

Both checks judge counts and order the upstream records, never a duration: the first wave of answers is held until
the client has shown how many attempts it keeps in flight, and a slow first job is held until every other job has
started, which a client that keeps its free slots busy always achieves and a client in batches never does."""

from functools import partial

from jobs import Knobs, Reply
from labkit.checks import concurrently, fail, log
from upstream import HOLD_MAX_S, Gate

QUIET_S = 0.8  # README: the first answers wait until LIMIT are in flight and none arrived for this long,
QUIET_BELOW_S = 1.0  # or, with fewer than LIMIT in flight, for this long (or at once when LIMIT + 1 are)
LIMITS = (3, 6)  # README


def check_keeps_limit_requests_in_flight(client, other_client, names, rng):
    """LIMIT 3 and LIMIT 6, two runs at once: the upstream's peak in flight equals LIMIT each time"""
    jobs = {limit: [names.ok(delay=0.05) for _ in range(2 * limit + rng.randrange(1, limit))] for limit in LIMITS}
    # Each run has an upstream of its own, whose gate judges that run's counts alone: no duration is measured.
    runs = concurrently(
        {
            f"LIMIT={limit}": partial(
                runner, jobs[limit], Knobs(limit=limit), gate=Gate(limit, QUIET_S, QUIET_BELOW_S), deadline=15.0
            )
            for limit, runner in zip(LIMITS, (client, other_client), strict=True)
        }
    )
    for limit, run in zip(LIMITS, runs.values(), strict=True):
        run.expect_results()
        peak = run.record.peak
        log(f"LIMIT={limit}: at most {peak} attempts were in flight at once")
        if peak > limit:
            fail(
                f"with LIMIT={limit}, the upstream saw more than {limit} of your requests in flight at once",
                expected=f"at most {limit} in flight",
                got=f"{peak} in flight",
                hint="take a slot (a semaphore of LIMIT) before the request is sent, and keep it until its answer "
                "is read: gathering every job at once is unbounded",
            )
        if peak < limit:
            fail(
                f"with LIMIT={limit} and {len(jobs[limit])} jobs waiting, the upstream never saw {limit} of your "
                "requests in flight at once",
                expected=f"{limit} in flight",
                got=f"{peak} in flight",
                hint="awaiting each request before sending the next is serial: run LIMIT of them at once",
            )


def check_refills_a_slot_as_soon_as_it_frees(client, names, rng):
    """While the first job's answer is held back, every other job passes through the other slots"""
    limit = rng.randrange(3, 6)
    slow = names.failing(Reply(200, names.body(), held=True), then_ok=False)
    jobs = [slow, *(names.ok(delay=0.02) for _ in range(3 * limit))]
    run = client(jobs, Knobs(limit=limit, timeout_ms=10_000, rounds=rng.randrange(1, 10)), deadline=15.0)
    run.expect_results()
    first = next(attempt for attempt in run.record.attempts if attempt.path == slow.path)  # its line is right
    if first.answered is None:
        fail(f"your program printed the line of {slow.line} without reading its answer")
    later = {job.path for job in jobs[limit:]}
    during = sum(attempt.path in later and attempt.arrived < first.answered for attempt in run.record.attempts)
    log(f"{during} of the {len(later)} jobs after the first {limit} started while {slow.line} held its slot")
    if during < len(later):
        fail(
            f"while the answer to {slow.line} was held back, your program did not start the jobs after the first "
            f"{limit} in its free slots",
            expected=f"all {len(later)} of them started while it waited (the upstream held it up to {HOLD_MAX_S:g} s)",
            got=f"{during} started meanwhile",
            hint="batches of LIMIT wait for their slowest member: start the next job as soon as any attempt ends",
        )
