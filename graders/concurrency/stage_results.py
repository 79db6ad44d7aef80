"""Stage 1: every job's result line, in job-list order, whatever order the answers came in."""

from jobs import Knobs, Reply
from labkit.checks import fail


def check_prints_every_result_in_job_order(client, names, rng):
    """Fast jobs answered out of order: one OK line per job, with body and digest, in job-list order"""
    count = rng.randrange(12, 16)
    # Later jobs answer sooner, so completion order is not job-list order.
    jobs = [names.ok(delay=0.02 + 0.15 * (count - i) / count) for i in range(count)]
    client(jobs, Knobs(limit=4, rounds=rng.randrange(3, 40))).expect_results()


def check_reports_other_statuses_as_failed(client, names, rng):
    """400, 403 and 404 end as FAILED with their status; a POST answered 200 is OK; a connection the upstream
    closes or resets without answering is FAILED 0, and not retried"""
    kinds = ["ok", "404", "post", "400", "ok", "403"]
    rng.shuffle(kinds)
    jobs = []
    for position, kind in enumerate(kinds):
        delay = 0.03 * (len(kinds) - position)  # later jobs answer sooner, as in the first check
        if kind == "ok":
            jobs.append(names.ok(delay=delay))
        elif kind == "post":
            jobs.append(names.ok(delay=delay, method="POST", prefix="orders"))
        else:
            jobs.append(names.failing(Reply(int(kind), "refused", delay=delay), then_ok=False))
    knobs = Knobs(limit=3, rounds=rng.randrange(1, 10))
    # Drawn last, so that the jobs above stay what they were for a given seed.
    hang_ups = [names.failing(Reply(0, delay=0.03, hang_up=how), then_ok=False) for how in ("close", "reset")]
    run = client([*jobs, *hang_ups], knobs)
    run.expect_results()
    for job in hang_ups:
        sent = len(run.attempts_of(job.path))
        if sent != 1:
            fail(
                f"{job.line} was sent {sent} times",
                expected="1 attempt: a connection that failed is not retried",
                got=f"{sent} attempts",
                hint="when the upstream ends the connection without an answer, print FAILED 0 and move on",
            )


def check_an_empty_job_list_prints_nothing(client, rng):
    """An empty job list: nothing printed, exit status 0"""
    client([], Knobs(limit=rng.randrange(2, 6))).expect_results()
