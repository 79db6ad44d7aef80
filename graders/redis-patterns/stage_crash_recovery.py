"""Stage 8: a consumer that dies with a job in flight does not lose it: reclaim() hands it to another one."""

import time

from labkit.checks import expect_equal, fail, log
from queuecheck import enqueue_all, expect_ack, expect_nothing_reclaimed, expect_taken, reclaim, reclaim_within, take

LOST_HINT = (
    "a taken job must stay recorded as in flight until ack(): RPOP, or XREADGROUP with NOACK, forgets it, so "
    "a consumer that dies loses it; use a consumer group (XREADGROUP + XAUTOCLAIM) or LMOVE to a processing list"
)
ACKED_HINT = (
    "ack must end the job for good: XACK (and XDEL) it, or remove it from the processing list and from whatever "
    "records when it was taken"
)
IDLE_HINT = (
    "reclaim may hand over only jobs in flight for at least min_idle_ms since their last delivery "
    "(XAUTOCLAIM's min-idle-time), never a waiting job; handing one over restarts that time"
)


def check_acknowledged_jobs_are_never_redelivered(pool, db):
    """reclaim() never hands out a job that was acknowledged"""
    worker, rescuer = pool.ready(2)
    jobs = enqueue_all(worker, "thumbs", ["thumb 1", "thumb 2", "thumb 3"])
    ids = list(jobs)
    for n, job_id in enumerate(ids, start=1):
        expect_taken(worker, "thumbs", "alpha", job_id, jobs[job_id], f"(take {n})")
    expect_ack(worker, "thumbs", ids[0], "thumb 1", True)
    expect_ack(worker, "thumbs", ids[1], "thumb 2", True)
    job = reclaim_within(rescuer, "thumbs", "beta", 100, within=3.0)
    expected = f"{{'id': {ids[2]!r}, 'payload': 'thumb 3'}}: the only job taken and not acknowledged"
    if job is None:
        fail(
            "reclaim('thumbs', 'beta', 100) never handed over the job that was taken and not acknowledged",
            expected=expected,
            got="None for 3 s",
            hint=LOST_HINT,
        )
    if job["id"] != ids[2]:
        fail(
            f"reclaim('thumbs', 'beta', 100) handed over {job['payload']!r}, which was acknowledged",
            expected=expected,
            got=repr(job),
            hint=ACKED_HINT,
        )
    expect_ack(rescuer, "thumbs", ids[2], "thumb 3", True, "by 'beta'")
    expect_nothing_reclaimed(rescuer, "thumbs", "gamma", 0, "once every job was acknowledged", ACKED_HINT)


def check_jobs_of_live_consumers_are_not_stolen(pool, db):
    """reclaim() leaves alone jobs in flight for less than min_idle_ms and waiting jobs, and restarts the idle time"""
    worker, other = pool.ready(2)
    jobs = enqueue_all(worker, "pdf", ["render report"])
    (job_id,) = jobs
    expect_taken(worker, "pdf", "alpha", job_id, jobs[job_id], "")
    waiting = enqueue_all(worker, "pdf", ["render invoice"])  # never taken: reclaim must leave it waiting
    expect_nothing_reclaimed(other, "pdf", "beta", 10_000, "right after 'alpha' took the job", IDLE_HINT)
    job = reclaim_within(other, "pdf", "beta", 100, within=3.0)
    if job is None:
        fail(
            "reclaim('pdf', 'beta', 100) never handed over the job 'alpha' took, although it stayed idle",
            got="None for 3 s",
            hint=LOST_HINT,
        )
    expect_equal(job, {"id": job_id, "payload": jobs[job_id]}, "the job reclaim('pdf', 'beta', 100) handed over")
    expect_nothing_reclaimed(worker, "pdf", "gamma", 2_000, "right after 'beta' reclaimed the job", IDLE_HINT)
    (waiting_id,) = waiting
    expect_taken(worker, "pdf", "delta", waiting_id, waiting[waiting_id], "(the job nobody took is still waiting)")


def check_a_crashed_consumers_job_is_redelivered(pool, db):
    """The job of a consumer killed mid-job is handed to another consumer by reclaim()"""
    doomed, survivor = pool.ready(2)
    jobs = enqueue_all(survivor, "video", ["encode clip-1", "encode clip-2"])
    (first, second) = jobs
    expect_taken(doomed, "video", "alpha", first, jobs[first], "(the oldest job)")
    pool.kill(0)
    log("grader: killed the process of consumer 'alpha' (SIGKILL) before it acknowledged its job")
    expect_taken(survivor, "video", "beta", second, jobs[second], "(the first job is in flight with 'alpha')")
    expect_ack(survivor, "video", second, jobs[second], True)
    job = reclaim_within(survivor, "video", "beta", 150, within=3.0)
    if job is None:
        fail(
            "the job taken by a consumer that crashed was never handed out again: it is lost",
            expected=f"reclaim('video', 'beta', 150) returns {{'id': {first!r}, ...}} once the job is 150 ms idle",
            got="None for 3 s",
            hint=LOST_HINT,
        )
    expect_equal(job, {"id": first, "payload": jobs[first]}, "the job reclaim() handed over")
    expect_ack(survivor, "video", first, jobs[first], True, "by the new consumer")
    expect_equal(reclaim(survivor, "video", "beta", 0), None, "reclaim('video', 'beta', 0) once every job is done")
    expect_equal(take(survivor, "video", "beta"), None, "take('video', 'beta', 0) once every job is done")


STALE_JOBS = 12  # past XAUTOCLAIM's scan of 10 entries per COUNT 1 call on Redis 7
STALE_MS = 300


def check_every_stale_job_is_reclaimed_one_at_a_time(pool, db):
    """With 12 jobs idle in flight, 12 reclaims in a row each hand over one job: none is skipped or taken twice"""
    worker, rescuer = pool.ready(2)
    jobs = enqueue_all(worker, "batch", [f"page {n}" for n in range(1, STALE_JOBS + 1)])
    # Job id -> when the call that last delivered it began and returned (the grader's clock): the delivery itself
    # happened in between, so a job is surely idle STALE_MS after the return, and surely not before the start.
    delivered: dict[str, tuple[float, float]] = {}
    for n, (job_id, payload) in enumerate(jobs.items(), start=1):
        began = time.monotonic()
        expect_taken(worker, "batch", "alpha", job_id, payload, f"(take {n})")
        delivered[job_id] = (began, time.monotonic())
    time.sleep(STALE_MS / 1000 + 0.05)
    handed: list[str] = []
    for n in range(1, STALE_JOBS + 1):
        began = time.monotonic()
        job = reclaim(rescuer, "batch", "beta", STALE_MS, quiet=True)
        if job is None:
            stale = [job_id for job_id, (_, returned) in delivered.items() if began - returned >= STALE_MS / 1000]
            fail(
                f"reclaim('batch', 'beta', {STALE_MS}) number {n} returned None while {len(stale)} jobs had been "
                f"in flight for more than {STALE_MS} ms since their last delivery",
                expected=f"one job per call: {STALE_JOBS} idle jobs, {STALE_JOBS} reclaims",
                got=f"{len(handed)} jobs handed over, then None",
                hint="hand over exactly one job per call and claim no other (XAUTOCLAIM ... COUNT 1 claims one), and "
                "keep scanning until a qualifying job is found or every job in flight was looked at (XAUTOCLAIM "
                "returns a cursor: continue from it until it is 0-0)",
            )
        if job["id"] not in jobs:
            fail(f"reclaim('batch', 'beta', {STALE_MS}) handed over a job never enqueued", got=repr(job))
        if time.monotonic() - delivered[job["id"]][0] < STALE_MS / 1000:
            fail(
                f"reclaim('batch', 'beta', {STALE_MS}) handed over {job['payload']!r} again right after a "
                "previous call had handed it over",
                expected=f"a job idle for {STALE_MS} ms since its last delivery",
                got=repr(job),
                hint=IDLE_HINT,
            )
        delivered[job["id"]] = (began, time.monotonic())
        handed.append(job["id"])
    log(f"{STALE_JOBS} reclaims handed over {len(set(handed))} different jobs")
