"""Stage 3: attempts the upstream never answers end as TIMEOUT, closed in time and never retried; time spent
waiting for a slot does not count, and an answer before TIMEOUT_MS is not abandoned."""

from jobs import Knobs, Reply
from labkit.checks import fail, log

CLOSE_SLACK_S = 1.5  # README: closed no later than TIMEOUT_MS plus 1.5 s after the upstream read the request


def check_black_holes_time_out_and_are_closed(client, names, rng):
    """Black holes end as TIMEOUT and are closed in time; jobs queued behind them and a slower answer are OK"""
    knobs = Knobs(limit=2, timeout_ms=1000, rounds=rng.randrange(1, 10))
    holes = [names.failing(Reply(blackhole=True), then_ok=False) for _ in range(2)]
    # Both slots are held by black holes for TIMEOUT_MS: the jobs behind them wait that long for a slot.
    jobs = [*holes, names.ok(delay=0.5), *(names.ok(delay=0.05) for _ in range(rng.randrange(3, 6)))]
    run = client(jobs, knobs, deadline=8.0)
    run.expect_results()
    for hole in holes:
        attempts = [attempt for attempt in run.record.attempts if attempt.path == hole.path]
        if len(attempts) != 1:
            fail(
                f"{hole.line} was sent {len(attempts)} times",
                expected="1 attempt: a timeout is not retried",
                got=f"{len(attempts)} attempts",
                hint="after a timeout, print TIMEOUT and move on",
            )
        attempt = attempts[0]
        if attempt.closed is None:
            fail(
                f"your program never closed the connection of {hole.line} after its timeout",
                hint="abandoning an attempt means closing its connection, so the server can stop working on it",
            )
        held = attempt.closed - attempt.arrived
        log(f"{hole.line}: closed {held:.2f} s after the upstream read it")
        if held > knobs.timeout_ms / 1000 + CLOSE_SLACK_S:
            fail(
                f"your program closed {hole.line} too late after sending it",
                expected=f"closed within TIMEOUT_MS ({knobs.timeout_ms} ms) + {CLOSE_SLACK_S} s",
                got=f"{held:.2f} s",
                hint="the timeout is per attempt: TIMEOUT_MS from the request's start",
            )


def check_the_timeout_is_timeout_ms(client, names, rng):
    """A shorter TIMEOUT_MS: an answer that comes after it ends as TIMEOUT, one well before it as OK"""
    knobs = Knobs(limit=3, timeout_ms=500, rounds=rng.randrange(1, 10))  # 0.4 s either side of the slow answers
    jobs = [names.ok(delay=0.05), names.ok(delay=0.9), names.ok(delay=0.02), names.ok(delay=1.2)]
    rng.shuffle(jobs)
    client(jobs, knobs, deadline=8.0).expect_results()
