"""Stage 4: only retryable statuses of GETs are retried, after waits of exponential backoff with jitter, or of
Retry-After; within a budget of RETRIES retries."""

from __future__ import annotations

import statistics

import pytest

from backoff import MEDIAN_SLACK_S, Overshoot, ceiling_s, median_overshoot, waits_by_retry
from backoff import waits as waits_of
from jobs import Job, Knobs, Names, Reply, attempts_expected
from labkit.checks import concurrently, fail, log
from runs import Run

EARLY_S = 0.025  # README: never shorter than B / 2 minus 25 ms
LATE_S = 2.5  # README: up to 2.5 s longer than the rule allows
# README: at least a quarter of the waits are shorter than B. A fixed wait of B is never measured shorter, since the
# upstream times it from before its answer leaves; a loaded machine's late wake-ups only lengthen the others.
JITTERED_BELOW = 1.0
JITTERED_SHARE = 0.25
RETRYABLE_ONCE = (500, 502, 503, 504, 429)
# README: a run whose jobs fail four times in a row. BACKOFF_MS is small so that the run is short, and B reaches
# 800 ms by the fourth retry: a backoff that triples waits at least 1350 ms there, past any median B + 0.3 s allows.
GROWTH_KNOBS = Knobs(limit=6, retries=4, backoff_ms=100, rounds=3)
GROWTH_DEADLINE_S = 8.0


@pytest.fixture
def retry_run(client, other_client, names, rng, shared_runs) -> Run:
    """One run for the whole stage (its checks judge different jobs of it): jobs failing once or twice with each
    retryable status, jobs that always fail, and statuses and POSTs never retried. Beside it, on the other
    upstream, the RETRIES=4 run and then a run of a 503 and a 429 with Retry-After: 1: a program that blocks its
    event loop through a Retry-After delays the backoff waits of its other jobs, and the jitter check would blame
    their draws; the event-loop stage names that bug."""
    if "run" not in shared_runs:
        flaky = [
            names.failing(*(Reply(status, "try again"),) * (1 + i % 2)) for i, status in enumerate(RETRYABLE_ONCE * 2)
        ]
        always = [names.failing(Reply(status, "down"), then_ok=False) for status in (503, 429)]
        never = [names.failing(Reply(status, "no"), then_ok=False) for status in (400, 404, 501)]
        posts = [
            names.failing(Reply(503, "busy"), method="POST", then_ok=False),
            names.failing(Reply(502, "busy"), method="POST"),
        ]
        jobs = [*flaky, *always, *never, *posts]
        rng.shuffle(jobs)
        later = [names.failing(Reply(status, "later", retry_after=1)) for status in (503, 429)]
        growth = growth_jobs(names, rng)  # drawn after the others, which stay what they were for a given seed
        knobs = Knobs(limit=8, retries=2, backoff_ms=400, rounds=3)

        def retries_2() -> list[Run]:
            return [client(jobs, knobs, deadline=12.0)]

        def growth_then_later() -> list[Run]:
            return [other_client(growth, GROWTH_KNOBS, deadline=GROWTH_DEADLINE_S), other_client(later, knobs)]

        # The runs mostly wait, each on an upstream of its own: together, they take as long as the longer one.
        runs = concurrently({"RETRIES=2": retries_2, "RETRIES=4 then Retry-After": growth_then_later})
        (shared_runs["run"],) = runs["RETRIES=2"]
        shared_runs["growth"], shared_runs["later"] = runs["RETRIES=4 then Retry-After"]
    run: Run = shared_runs["run"]
    run.expect_finished()
    return run


@pytest.fixture
def growth_run(retry_run, shared_runs) -> Run:
    """The stage's run with RETRIES=4, made beside ``retry_run``: jobs that fail four times, then succeed."""
    growth: Run = shared_runs["growth"]
    return growth


def growth_jobs(names: Names, rng) -> list[Job]:
    return [
        names.failing(*(Reply(rng.choice(RETRYABLE_ONCE), "try again") for _ in range(GROWTH_KNOBS.retries)))
        for _ in range(GROWTH_KNOBS.limit)
    ]


@pytest.fixture
def retry_after_run(retry_run, shared_runs) -> Run:
    """The stage's run of a 503 and a 429 with Retry-After: 1, made after the RETRIES=4 one."""
    later: Run = shared_runs["later"]
    later.expect_finished()
    return later


@pytest.fixture(scope="module")
def shared_runs() -> dict[str, Run]:
    return {}


def backed_off(run: Run) -> list[Job]:
    """The GETs, whose retries wait out the backoff (the jobs with a Retry-After have a run of their own)."""
    return [job for job in run.jobs if job.method == "GET"]


def waits(run: Run, path: str) -> list[float]:
    """Seconds from each failed answer to the next attempt's arrival."""
    return waits_of(run.attempts_of(path))


def expect_attempts(run: Run, job_line: str, path: str, wanted: int, why: str) -> None:
    sent = sum(1 for attempt in run.record.attempts if attempt.path == path)
    if sent != wanted:
        fail(f"{job_line} was sent {sent} times", expected=f"{wanted} attempts", got=f"{sent}", hint=why)


def check_reports_each_jobs_final_outcome(retry_run):
    """Each job's line: OK once a retry succeeded, else FAILED with its last attempt's status"""
    retry_run.expect_results()


def check_retries_with_exponential_backoff(retry_run):
    """GETs failing once or twice with 429, 500, 502, 503 or 504: retried, each wait within its backoff's bounds"""
    for job in backed_off(retry_run):
        if job.reply(-1).status == 200:
            expect_backed_off(retry_run, job)


def check_waits_grow_by_doubling(growth_run, client):
    """RETRIES=4: each wait at least B/2, and the median wait before retry k at most B + 0.3 s, as B doubles"""
    overshoot = overshoot_of(growth_run)
    if overshoot is not None:
        # README: a machine that stalls for a moment delays every wait at once, so the run is made again, once.
        log(f"the median wait before retry {overshoot.retry} is past B + {MEDIAN_SLACK_S} s: running again")
        overshoot = overshoot_of(client(growth_run.jobs, growth_run.knobs, deadline=GROWTH_DEADLINE_S))
    if overshoot is not None:
        ceiling_ms = overshoot.ceiling * 1000
        fail(
            f"with RETRIES=4, your program waited longer than B before retry {overshoot.retry}, in two runs",
            expected=f"waits between {ceiling_ms / 2:.0f} and {ceiling_ms:.0f} ms (B = BACKOFF_MS × "
            f"2^{overshoot.retry - 1}), so a median of at most {ceiling_ms:.0f} ms + {MEDIAN_SLACK_S} s",
            got=f"a median of {overshoot.median * 1000:.0f} ms over {GROWTH_KNOBS.limit} jobs",
            hint="B doubles from one retry to the next, no faster: BACKOFF_MS before the first retry, twice that "
            "before the second, 4 × BACKOFF_MS before the third, 8 × before the fourth",
        )


def overshoot_of(run: Run) -> Overshoot | None:
    """The run's first retry whose median wait is too long, once each of its waits is within the per-wait bounds."""
    run.expect_results()
    for job in run.jobs:
        expect_backed_off(run, job)
    by_retry = waits_by_retry([run.attempts_of(job.path) for job in run.jobs])
    for retry, found in sorted(by_retry.items()):
        ceiling_ms = ceiling_s(run.knobs.backoff_ms, retry) * 1000
        log(f"retry {retry}: median wait {statistics.median(found) * 1000:.0f} ms (B = {ceiling_ms:.0f} ms)")
    return median_overshoot(by_retry, run.knobs.backoff_ms)


def expect_backed_off(run: Run, job: Job) -> None:
    """``job``, a GET that fails with a retryable status and then succeeds, was retried until it did, and each
    wait was within its backoff's bounds."""
    knobs = run.knobs
    expect_attempts(
        run,
        job.line,
        job.path,
        attempts_expected(job, knobs),
        f"retry a GET answered {job.reply(0).status} until it succeeds, at most RETRIES times",
    )
    for k, wait in enumerate(waits(run, job.path), start=1):
        ceiling = ceiling_s(knobs.backoff_ms, k)
        log(f"{job.line}: waited {wait * 1000:.0f} ms before retry {k} (B = {ceiling * 1000:.0f} ms)")
        if wait < ceiling / 2 - EARLY_S:
            fail(
                f"{job.line}: your program sent retry {k} sooner than B/2 after the failed answer",
                expected=f"a wait between {ceiling * 500:.0f} and {ceiling * 1000:.0f} ms (B = BACKOFF_MS × 2^{k - 1})",
                got=f"{wait * 1000:.0f} ms",
                hint="wait before every retry, and double B each time: retrying at once makes a retry storm",
            )
        if wait > ceiling + LATE_S:
            fail(
                f"{job.line}: your program waited longer than B before retry {k}",
                expected=f"at most {ceiling * 1000:.0f} ms (+ {LATE_S} s for a loaded machine)",
                got=f"{wait:.2f} s",
                hint="B = BACKOFF_MS × 2^(k-1) milliseconds, k = 1 for the first retry",
            )


def check_backoff_is_jittered(retry_run):
    """The backoff waits are drawn at random between B/2 and B, not all B"""
    knobs = retry_run.knobs
    ratios = []
    for job in backed_off(retry_run):
        ratios += [wait * 1000 / (knobs.backoff_ms * 2**k) for k, wait in enumerate(waits(retry_run, job.path))]
    log("waits / B: " + ", ".join(f"{ratio:.2f}" for ratio in sorted(ratios)))
    if len(ratios) < 8:
        fail("too few backoff waits to judge", got=f"{len(ratios)} waits", hint="retry retryable GETs at all")
    # A uniform draw between B/2 and B is below B however late the wake-up, up to B/2 late; a fixed B never is.
    short = sum(ratio < JITTERED_BELOW for ratio in ratios)
    if short < len(ratios) * JITTERED_SHARE:
        fail(
            "your backoff waits are (nearly) all B: they are not drawn at random",
            expected=f"at least {JITTERED_SHARE:.0%} of the waits shorter than {JITTERED_BELOW} × B",
            got=f"{short} of {len(ratios)} waits, from {min(ratios):.2f} B to {max(ratios):.2f} B",
            hint="draw every wait anew (random.uniform(B / 2, B)), so clients that failed together do not retry "
            "together",
        )


def check_stops_at_the_retry_budget(retry_run, client, names, rng):
    """GETs that always fail: RETRIES retries then FAILED, with RETRIES 2 and then 3"""
    for job in retry_run.jobs:
        if job.method == "GET" and job.reply(0).status in (503, 429) and job.reply(-1).status != 200:
            expect_attempts(
                retry_run,
                job.line,
                job.path,
                retry_run.knobs.retries + 1,
                "at most RETRIES retries, then FAILED with the last status",
            )
    knobs = Knobs(limit=2, retries=3, backoff_ms=20, rounds=2)
    jobs = [names.failing(Reply(502, "down"), then_ok=False), names.ok(), names.failing(Reply(504, "down"))]
    run = client(jobs, knobs, deadline=8.0)
    run.expect_results()
    expect_attempts(run, jobs[0].line, jobs[0].path, 4, "with RETRIES=3: 4 attempts, then FAILED 502")


def check_never_retries_what_must_not_be(retry_run):
    """POSTs, 400, 404 and 501 are sent exactly once"""
    for job in retry_run.jobs:
        if job.method == "POST":
            expect_attempts(
                retry_run, job.line, job.path, 1, "a POST is not idempotent: never send it twice, whatever its answer"
            )
        elif job.reply(0).status in (400, 404, 501):
            expect_attempts(
                retry_run,
                job.line,
                job.path,
                1,
                f"{job.reply(0).status} will not change on retry: only 429, 500, 502, 503 and 504 are retryable",
            )


def check_honours_retry_after(retry_after_run):
    """A 503 and a 429 with Retry-After: 1 are retried after one second, not sooner"""
    retry_after_run.expect_results()
    for job in retry_after_run.jobs:
        expect_attempts(retry_after_run, job.line, job.path, 2, "retry it once its Retry-After has passed")
        (wait,) = waits(retry_after_run, job.path)
        log(f"{job.line}: waited {wait:.2f} s after Retry-After: 1")
        if wait < 1.0 - EARLY_S or wait > 2.0 + LATE_S:
            fail(
                f"{job.line} was answered {job.reply(0).status} with Retry-After: 1, and your program did not wait "
                "one second before its retry"
                if wait < 1.0
                else f"{job.line}: your program waited far longer than its Retry-After: 1",
                expected="a wait of 1 s (at most 2 s)",
                got=f"{wait:.2f} s",
                hint="Retry-After: N replaces the backoff: wait N seconds, no less",
            )
