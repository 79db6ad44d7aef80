"""Stage 5: the heartbeat answers every ping within 250 ms from GET /jobs to the exit, while requests are in flight
and while retries wait: nothing blocks the program's event loop (or whatever serves the heartbeat)."""

from __future__ import annotations

import pytest

from heartbeat import Beats, Pinger
from jobs import Knobs, Reply
from labkit.checks import fail, log
from labkit.ports import free_port
from runs import Run

BOUND_S = 0.25  # README: every ping answered within 250 ms
FIRST_PONG_WITHIN_S = 3.0  # README: the upstream holds GET /jobs this long for the heartbeat


@pytest.fixture
def watched(client, upstream, names, rng, shared_runs) -> tuple[Run, Beats]:
    """One run for the stage: slow jobs, a backoff wait of up to 800 ms and a Retry-After of 1 s."""
    if "run" not in shared_runs:
        port = free_port()
        slow = [names.ok(delay=0.4) for _ in range(rng.randrange(6, 9))]
        # The retried jobs come first: their waits pass while the slow jobs hold the slots, not after them.
        busy, later = names.failing(Reply(503, "busy")), names.failing(Reply(503, "later", retry_after=1))
        jobs = [later, busy, *slow]
        with Pinger(port) as pinger:
            upstream.before_jobs = lambda: pinger.beats.first_pong.wait(FIRST_PONG_WITHIN_S)
            knobs = Knobs(limit=3, retries=2, backoff_ms=800, rounds=rng.randrange(1, 10))
            shared_runs["run"] = (client(jobs, knobs, deadline=10.0, env={"PORT": str(port)}), pinger.beats)
    run, beats = shared_runs["run"]
    return run, beats


@pytest.fixture(scope="module")
def shared_runs() -> dict[str, tuple[Run, Beats]]:
    return {}


def check_serves_the_heartbeat_before_its_first_request(watched):
    """Listens on PORT and answers ping with pong before it sends GET /jobs"""
    run, beats = watched
    run.expect_finished()
    if not beats.connected:
        fail(
            "the grader could not connect to 127.0.0.1:$PORT",
            hint="when PORT is set, listen on 127.0.0.1:$PORT before sending GET /jobs, until your program exits",
        )
    if beats.wrong:
        fail("your heartbeat answered ping with something else", expected="pong\\n", got=repr(beats.wrong[0]))
    if not beats.first_pong.is_set():
        fail(f"no pong within {FIRST_PONG_WITHIN_S:g} s of connecting", hint="answer every line ping\\n with pong\\n")


def check_answers_every_ping_in_time(watched):
    """Every ping answered within 250 ms while requests are in flight and retries wait"""
    run, beats = watched
    run.expect_results()
    slowest = max(beats.latencies, default=0.0)
    log(f"{len(beats.latencies)} pings answered, the slowest in {slowest * 1000:.0f} ms; {beats.unanswered} unanswered")
    late = [latency for latency in beats.latencies if latency > BOUND_S]
    if beats.unanswered or late:
        got = f"{len(late)} of {len(beats.latencies)} pings answered late, the slowest after {slowest * 1000:.0f} ms"
        if beats.unanswered:
            got = f"a ping had no answer after 3 s ({len(late)} answered late before it)"
        fail(
            "your program stopped answering the heartbeat while it worked",
            expected="every pong within 250 ms",
            got=got,
            hint="a blocking call (time.sleep, a blocking HTTP request) or a digest computed on the event "
            "loop stops everything the loop serves: await asyncio.sleep, use an async client, or run blocking "
            "work in a thread or process",
        )
    if len(beats.latencies) < 10:
        fail(
            "too few pings were answered while your program ran",
            expected="at least 10",
            got=f"{len(beats.latencies)}",
            hint="keep answering pings until your program exits",
        )
