"""Calling the queue functions and checking the shape of what they return, for the queue stages."""

from __future__ import annotations

from typing import TypedDict

from labkit.checks import expect_equal, fail, log
from labkit.driver import Driver, LearnerRaised
from labkit.errors import CheckFailed
from labkit.wait import until

CALL_TIMEOUT_S = 2.0


class Job(TypedDict):
    """A job as take() and reclaim() return it."""

    id: str
    payload: str


JOB_SHAPE_HINT = 'a job is returned as {"id": <the id enqueue returned>, "payload": <the payload>}'


def expect_job(value: object, what: str) -> Job | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not isinstance(value.get("payload"), str):
        fail(f"{what} must return None or a dict with str 'id' and 'payload'", got=repr(value), hint=JOB_SHAPE_HINT)
    return Job(id=value["id"], payload=value["payload"])


def enqueue(driver: Driver, queue: str, payload: str) -> str:
    job_id = driver.call("enqueue", queue, payload, timeout=CALL_TIMEOUT_S)
    if not isinstance(job_id, str) or not job_id:
        fail(f"enqueue({queue!r}, ...) must return the job's id as a non-empty str", got=repr(job_id))
    return job_id


def enqueue_all(driver: Driver, queue: str, payloads: list[str]) -> dict[str, str]:
    """Enqueues every payload; returns {id: payload}, checking that the ids are distinct."""
    jobs: dict[str, str] = {}
    for payload in payloads:
        job_id = enqueue(driver, queue, payload)
        if job_id in jobs:
            fail(f"enqueue({queue!r}, ...) returned the same id for two jobs", hint="every job needs its own id")
        jobs[job_id] = payload
    return jobs


BLOCK_ZERO_HINT = "block_ms=0 means do not wait; Redis's BLOCK 0 (and a BLMOVE timeout of 0) means wait forever"


def take(driver: Driver, queue: str, consumer: str, block_ms: int = 0, timeout: float = CALL_TIMEOUT_S) -> Job | None:
    what = f"take({queue!r}, {consumer!r}, {block_ms})"
    try:
        value = driver.call("take", queue, consumer, block_ms, timeout=timeout)
    except LearnerRaised:
        raise
    except CheckFailed as failure:
        fail(f"{what}: {failure.message}", hint=BLOCK_ZERO_HINT if block_ms == 0 else failure.hint)
    return expect_job(value, what)


def expect_taken(driver: Driver, queue: str, consumer: str, job_id: str, payload: str, why: str) -> None:
    job = take(driver, queue, consumer)
    expect_equal(job, {"id": job_id, "payload": payload}, f"take({queue!r}, {consumer!r}, 0) {why}")


def ack(driver: Driver, queue: str, job_id: str) -> bool:
    acked = driver.call("ack", queue, job_id, timeout=CALL_TIMEOUT_S)
    if not isinstance(acked, bool):
        fail(f"ack({queue!r}, ...) returned {type(acked).__name__}, not a bool", got=repr(acked))
    return acked


def expect_ack(driver: Driver, queue: str, job_id: str, payload: str, expected: bool, when: str = "") -> None:
    """ack() answers ``expected``; the message names the job by its payload (ids may be timestamps)."""
    what = f"ack({queue!r}, <the id of {payload!r}>){' ' + when if when else ''}"
    expect_equal(ack(driver, queue, job_id), expected, what)


def reclaim(driver: Driver, queue: str, consumer: str, min_idle_ms: int, quiet: bool = False) -> Job | None:
    what = f"reclaim({queue!r}, {consumer!r}, {min_idle_ms})"
    return expect_job(driver.call("reclaim", queue, consumer, min_idle_ms, timeout=CALL_TIMEOUT_S, quiet=quiet), what)


def expect_nothing_reclaimed(driver: Driver, queue: str, consumer: str, min_idle_ms: int, when: str, hint: str) -> None:
    job = reclaim(driver, queue, consumer, min_idle_ms)
    if job is not None:
        fail(f"reclaim({queue!r}, {consumer!r}, {min_idle_ms}) {when} handed over {job['payload']!r}", hint=hint)


def reclaim_within(driver: Driver, queue: str, consumer: str, min_idle_ms: int, within: float) -> Job | None:
    """Calls reclaim every 30 ms until it hands over a job, for at most ``within`` seconds."""
    log(f"calling reclaim({queue!r}, {consumer!r}, {min_idle_ms}) every 30 ms for up to {within:g} s")
    job = until(lambda: reclaim(driver, queue, consumer, min_idle_ms, quiet=True), within, interval=0.03)
    log("← None every time" if job is None else f"← {job!r}")
    return job
