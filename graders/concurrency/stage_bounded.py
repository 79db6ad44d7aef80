"""Stage 2: exactly LIMIT attempts in flight (not one at a time, not all at once), and no slot left idle."""

from jobs import Knobs, makespan
from labkit.checks import expect, fail, log

SLOW_FACTOR = 1.5  # README: at most 1.5 times the arithmetic, plus 0.5 s
SLACK_S = 0.5
SLOW_S = 0.9


def check_keeps_limit_requests_in_flight(client, names, rng):
    """Equal delays with LIMIT 3, then LIMIT 6: the upstream's peak in flight equals LIMIT each time"""
    for limit in (3, 6):
        jobs = [names.ok(delay=0.25) for _ in range(3 * limit + rng.randrange(1, limit))]
        run = client(jobs, Knobs(limit=limit))
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
                f"with LIMIT={limit} and {len(jobs)} jobs waiting, the upstream never saw {limit} of your requests "
                "in flight at once",
                expected=f"{limit} in flight",
                got=f"{peak} in flight",
                hint="awaiting each request before sending the next is serial: run LIMIT of them at once",
            )


def check_refills_a_slot_as_soon_as_it_frees(client, names, rng):
    """Unequal delays: the run takes no longer than LIMIT slots kept busy would take"""
    limit = 4
    delays = [SLOW_S if i % limit == 0 else 0.1 for i in range(4 * limit)]  # one slow job opens every batch
    jobs = [names.ok(delay=delay) for delay in delays]
    run = client(jobs, Knobs(limit=limit, rounds=rng.randrange(1, 10)))
    run.expect_results()
    arrivals = [attempt.arrived for attempt in run.record.attempts]
    answers = [attempt.answered for attempt in run.record.attempts if attempt.answered is not None]
    expect(len(answers) == len(jobs), f"the upstream answered {len(answers)} of {len(jobs)} jobs")
    # The first job's attempt, wherever it came among the first LIMIT arrivals (their order is the machine's).
    first = next((attempt for attempt in run.record.attempts if attempt.path == jobs[0].path), None)
    if first is not None and first.answered is not None:
        # While the first (slow) job holds its slot, the others keep working: LIMIT slots kept busy start jobs
        # past the first LIMIT in that time; batches of LIMIT start none. (Counted by job, not by arrival order,
        # which among the first LIMIT is the machine's.)
        later = {job.path for job in jobs[limit:]}
        during = sum(attempt.path in later and attempt.arrived < first.answered for attempt in run.record.attempts)
        log(f"{during} jobs started while {jobs[0].line} ({SLOW_S} s) held its slot")
        if during < limit:
            fail(
                f"while {jobs[0].line} took {SLOW_S} s, your program started fewer than {limit} of the jobs after the "
                f"first {limit} in the free slots",
                expected=f"the next jobs sent as soon as any of the {limit} slots frees",
                got=f"{during} jobs started meanwhile",
                hint="batches of LIMIT wait for their slowest member: start the next job as soon as any attempt ends",
            )
    took = max(answers) - min(arrivals)
    ideal = makespan(delays, limit)
    batched = sum(max(delays[i : i + limit]) for i in range(0, len(delays), limit))
    bound = SLOW_FACTOR * ideal + SLACK_S
    log(f"first arrival to last answer: {took:.2f} s; with {limit} busy slots {ideal:.2f} s; bound {bound:.2f} s")
    if took > bound:
        fail(
            f"your {len(jobs)} jobs took longer than {limit} slots kept busy would, from the first request to the "
            "last answer",
            expected=f"at most {bound:.2f} s ({SLOW_FACTOR} × {ideal:.2f} s, the time with {limit} slots kept busy, "
            f"+ {SLACK_S} s)",
            got=f"{took:.2f} s (in batches of {limit} it would be about {batched:.2f} s)",
            hint="start the next job as soon as any attempt ends: batches of LIMIT wait for their slowest member",
        )
