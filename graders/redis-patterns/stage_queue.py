"""Stage 7: a work queue: jobs come out in order, once, to one consumer each, and are acknowledged."""

import time

from labkit.checks import expect, expect_equal, fail, log
from labkit.pool import call, describe, expect_answers
from queuecheck import BLOCK_ZERO_HINT, Job, enqueue, enqueue_all, expect_ack, expect_job, expect_taken, take
from verdicts import HINTS

SHARED_HINT = (
    "moving a job from waiting to in flight must be one step: XREADGROUP, or LMOVE/BLMOVE to a processing list, "
    "or a Lua script; reading the head (LINDEX, XRANGE) and removing it afterwards hands it to several consumers"
)


def check_jobs_come_out_in_order_and_are_acknowledged_once(pool, db):
    """Jobs are taken oldest first, each once, and acknowledged once; another queue's job stays in its queue"""
    (driver,) = pool.ready(1)
    elsewhere = enqueue_all(driver, "fax", ["fax 1"])  # older than every mail job
    payloads = [f"mail {n}" for n in range(1, 6)]
    jobs = enqueue_all(driver, "mail", payloads)
    (fax_id,) = elsewhere
    for n, (job_id, payload) in enumerate(jobs.items(), start=1):
        job = take(driver, "mail", "worker-1")
        if job is not None and job["payload"] == elsewhere[fax_id]:
            fail(
                "take('mail', 'worker-1', 0) returned the job enqueued on 'fax': queues are independent",
                got=repr(job),
                hint="name each queue's keys after the queue (for example queue:<name>)",
            )
        expect_equal(job, {"id": job_id, "payload": payload}, f"take('mail', 'worker-1', 0) (take {n}: oldest first)")
    expect_equal(take(driver, "mail", "worker-1"), None, "take('mail', 'worker-1', 0) with every job in flight")
    for job_id in jobs:
        expect_ack(driver, "mail", job_id, jobs[job_id], True, "of a job in flight")
    first = next(iter(jobs))
    expect_ack(driver, "mail", first, jobs[first], False, "a second time")
    expect_equal(take(driver, "mail", "worker-2"), None, "take('mail', 'worker-2', 0) once every job is done")
    expect_taken(driver, "fax", "worker-1", fax_id, elsewhere[fax_id], "(queues are independent: 'fax' kept its job)")


def check_take_waits_up_to_block_ms(pool, db):
    """take() with block_ms waits for a job; with block_ms=0 it returns at once"""
    _, producer = pool.ready(2)
    empty = pool.outcome(0, call("take", "sms", "worker-1", 0), within=1.5)
    if empty.failure is not None:
        fail(
            f"take('sms', 'worker-1', 0) on an empty queue did not return: {empty.failure.message}",
            hint=BLOCK_ZERO_HINT,
        )
    expect_answers([empty], hints=HINTS)
    expect_equal(expect_job(empty.value, str(empty.call)), None, "take('sms', 'worker-1', 0) on an empty queue")
    with pool.start([call("take", "sms", "worker-1", 3000)]) as waiting:
        time.sleep(0.3)  # the take must still be waiting for a job after this short window
        expect(not waiting.finished(), "take('sms', 'worker-1', 3000) returned within 0.3 s on an empty queue")
        job_id = enqueue(producer, "sms", "your code is 1234")
        arrived = time.monotonic()
        log(f"another process enqueued job {job_id!r} while take() waited")
        (result,) = waiting.outcomes(within=5.0)
        late = time.monotonic() - arrived > 1.5
    expect_answers([result], hints=HINTS)
    job = expect_job(result.value, str(result.call))
    expect_equal(job, {"id": job_id, "payload": "your code is 1234"}, "what the waiting take() returned")
    expect(
        not late,
        "take('sms', 'worker-1', 3000) returned the job more than 1.5 s after it was enqueued",
        hint="return a job as soon as it arrives: XREADGROUP ... BLOCK block_ms or BLMOVE wake up at once",
    )


def check_concurrent_consumers_never_share_a_job(pool, db, gate):
    """Eight consumers taking at the same moment each get a different job, and no job is lost"""
    producer = pool.ready(1)[0]
    jobs = enqueue_all(producer, "orders", [f"order {n}" for n in range(1, pool.size + 1)])
    takes = [call("take", "orders", f"worker-{n}", 0) for n in range(pool.size)]
    outcomes = pool.run(takes, gate=gate)
    expect_answers(outcomes, hints=HINTS, hang_hint=BLOCK_ZERO_HINT)
    taken = [expect_job(outcome.value, str(outcome.call)) for outcome in outcomes]
    expect_each_job_once(jobs, taken, describe(outcomes))
    more = enqueue_all(producer, "orders", [f"order {n}" for n in range(pool.size + 1, 4 * pool.size + 1)])
    flat = pool.run(takes, rounds=4)
    expect_answers(flat, hints=HINTS, hang_hint=BLOCK_ZERO_HINT)
    taken = [expect_job(result.value, str(result.call)) for result in flat]
    expect_each_job_once(more, taken, f"{len(flat)} take() calls from {pool.size} processes")


def expect_each_job_once(jobs: dict[str, str], taken: list[Job | None], calls: str) -> None:
    """Every job in ``jobs`` ({id: payload}) was taken by exactly one of the calls."""
    delivered = [job["id"] for job in taken if job is not None]
    shared = [job_id for job_id in jobs if delivered.count(job_id) > 1]
    if shared:
        most = max(shared, key=delivered.count)
        fail(
            f"{len(shared)} job(s) went to more than one consumer: {jobs[most]!r} to {delivered.count(most)} of them",
            expected="every job taken by exactly one consumer",
            got=calls,
            hint=SHARED_HINT,
        )
    unknown = [job_id for job_id in delivered if job_id not in jobs]
    if unknown:
        fail(f"take() returned {len(unknown)} job(s) that were not waiting in this queue", got=calls)
    missing = [payload for job_id, payload in jobs.items() if job_id not in delivered]
    if missing:
        fail(
            f"{len(missing)} waiting job(s) were not handed out although consumers asked, e.g. {missing[0]!r}",
            expected=f"all {len(jobs)} jobs taken",
            got=calls,
            hint=SHARED_HINT,
        )
