"""Stage 6: SIGINT while some jobs are done and others in flight: every connection closed, nothing new sent, the
finished jobs' lines and CANCELLED for the others, exit status 130 within 2 s."""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass

import pytest

from jobs import Job, Knobs, Reply, expected_lines
from labkit.checks import fail, log
from labkit.readiness import NoReadiness
from labkit.wait import until
from runs import expect_lines
from upstream import Record

EXIT_WITHIN_S = 2.0  # README
SETTLE_S = 0.5  # README: the answered jobs' digests finish (a pool starts) while black holes hold every slot
CLOSE_SLACK_S = 1.0  # the upstream notices a closed connection within its poll; a loaded machine is slower


@dataclass(frozen=True)
class Interrupted:
    jobs: tuple[Job, ...]
    done: int  # the jobs answered before the signal
    exit_code: int | None
    exited_after: float
    stdout: bytes
    signalled_at: float
    record: Record


@pytest.fixture
def interrupted(start_learner, upstream, names, rng, shared_runs) -> Interrupted:
    """One run for the stage: fast jobs, then black holes; SIGINT once LIMIT black holes are in flight."""
    if "run" not in shared_runs:
        limit = 3
        done = rng.randrange(2, 5)
        jobs = (
            *(names.ok(delay=0.02) for _ in range(done)),
            *(names.failing(Reply(blackhole=True), then_ok=False) for _ in range(limit + 2)),
        )
        upstream.load(jobs)
        knobs = Knobs(limit=limit, timeout_ms=30_000, rounds=2)
        program = start_learner(env=knobs.env(upstream.url), ready=NoReadiness())
        busy = until(lambda: upstream.snapshot().in_flight >= limit, within=8.0)
        if not busy:
            fail(
                f"your program never had {limit} requests in flight (LIMIT={limit})",
                hint="the earlier stages must pass first",
                got=program.stderr_tail(),
            )
        time.sleep(SETTLE_S)
        signalled_at = time.monotonic()
        program.send_signal(signal.SIGINT)
        code = program.wait_exit(EXIT_WITHIN_S + 3.0)
        exited_after = time.monotonic() - signalled_at
        until(lambda: upstream.snapshot().in_flight == 0, within=CLOSE_SLACK_S)
        stdout = program.stdout_path.read_bytes() if program.stdout_path.exists() else b""
        shared_runs["run"] = Interrupted(
            tuple(jobs), done, code, exited_after, stdout, signalled_at, upstream.snapshot()
        )
    found: Interrupted = shared_runs["run"]
    return found


@pytest.fixture(scope="module")
def shared_runs() -> dict[str, Interrupted]:
    return {}


def check_exits_130_with_partial_results(interrupted):
    """Exits with status 130 within 2 s, printing the finished jobs' lines and CANCELLED for the others"""
    run = interrupted
    log(f"exited {run.exited_after:.2f} s after SIGINT with {run.exit_code}")
    if run.exit_code is None:
        fail(
            "your program was still running 5 s after SIGINT",
            expected="exit status 130 within 2 s",
            hint="never swallow a cancellation: an except that catches CancelledError or KeyboardInterrupt must "
            "re-raise it or end the program",
        )
    if run.exit_code != 130 or run.exited_after > EXIT_WITHIN_S:
        fail(
            "your program did not exit with status 130 within 2 s of SIGINT",
            expected=f"exit status 130 within {EXIT_WITHIN_S:g} s",
            got=f"{run.exit_code} after {run.exited_after:.2f} s",
            hint="on SIGINT cancel what is in flight, print the lines and exit with 130",
        )
    finished = expected_lines(run.jobs[: run.done], Knobs(rounds=2))
    wanted = finished + [f"{job.line} CANCELLED" for job in run.jobs[run.done :]]
    expect_lines(
        run.stdout.decode(errors="replace").splitlines(),
        wanted,
        run.stdout.endswith(b"\n"),
        preface="your program exited with code 130 after SIGINT, but ",
    )


def check_closes_what_is_in_flight_and_sends_nothing_more(interrupted):
    """Every connection in flight is closed, and no request is sent after SIGINT"""
    run = interrupted
    late = [attempt for attempt in run.record.attempts if attempt.arrived > run.signalled_at]
    if late:
        fail(
            f"your program sent {late[0].method} {late[0].path} after SIGINT",
            hint="on SIGINT stop starting attempts and retries",
        )
    open_ = [a for a in run.record.attempts if a.answered is None and a.closed is None]
    if open_:
        fail(
            f"{len(open_)} connections in flight at SIGINT were never closed",
            got=f"{open_[0].method} {open_[0].path}",
            hint="cancel every attempt in flight and close its connection before exiting",
        )
