"""Stage 7: digests computed in parallel. The same job list with WORKERS=1 and WORKERS=2: the same output, two
digests computed at the same time (seen in /proc), and the parallel run at least 1.25 times as fast, in the best
of up to three pairs of runs measured here and now.

A machine shared with other work may not give the program two cores: the speed-up is judged only in runs whose
WORKERS=2 process tree got 1.5 cores' worth of CPU or more (measured in /proc, in the same run); the /proc sampling
of runnable threads judges parallelism either way."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pytest

from cores import Parallelism, Sampler
from jobs import Job, Knobs, digest
from labkit.checks import expect_equal, fail, log
from labkit.readiness import NoReadiness
from runs import expect_lines
from upstream import Upstream

SPEED_UP = 1.25  # README
PARALLEL_SHARE = 0.3  # README: two digests at once in at least 30 % of the samples while one runs
PAIRS = 3
GIVEN = 1.5  # README: the speed-up is judged when the WORKERS=2 run got 1.5 cores' worth of CPU or more
ROUNDS = 200_000  # about a second of SHA-256 in CPython for the whole list
DEADLINE_S = 20.0
HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Timed:
    workers: int
    lines: list[str]
    ends_with_newline: bool
    exit_code: int | None
    took: float
    seen: Parallelism


@dataclass(frozen=True)
class Pairs:
    jobs: tuple[Job, ...]
    runs: list[tuple[Timed, Timed]]  # (WORKERS=1, WORKERS=2)

    @property
    def ratios(self) -> list[float]:
        return [serial.took / parallel.took for serial, parallel in self.runs]


def timed(start_learner, upstream: Upstream, jobs: tuple[Job, ...], workers: int) -> Timed:
    upstream.load(jobs)
    knobs = Knobs(limit=4, rounds=ROUNDS, workers=workers)
    began = time.monotonic()
    program = start_learner(env=knobs.env(upstream.url), ready=NoReadiness())
    with Sampler(program.pid) as sampler:
        code = program.wait_exit(DEADLINE_S)
    took = time.monotonic() - began
    stdout = program.stdout_path.read_bytes() if program.stdout_path.exists() else b""
    seen = sampler.seen
    log(
        f"WORKERS={workers}: {took:.2f} s; two tasks runnable in {seen.share:.0%} of {seen.busy} busy samples, "
        f"{len(seen.pids)} processes"
    )
    return Timed(workers, stdout.decode(errors="replace").splitlines(), stdout.endswith(b"\n"), code, took, seen)


@pytest.fixture
def pairs(start_learner, upstream, names, shared_runs) -> Pairs:
    """Up to four pairs of runs, WORKERS=1 then WORKERS=2, until one shows the speed-up."""
    if "pairs" not in shared_runs:
        jobs = tuple(names.ok() for _ in range(10))
        done = Pairs(jobs, [])
        for _ in range(PAIRS):
            serial = timed(start_learner, upstream, jobs, 1)
            if serial.exit_code != 0:
                break  # the first check says why
            done.runs.append((serial, timed(start_learner, upstream, jobs, 2)))
            if done.ratios[-1] >= SPEED_UP:
                break
        shared_runs["pairs"] = done
    found: Pairs = shared_runs["pairs"]
    return found


@pytest.fixture(scope="module")
def shared_runs() -> dict[str, Pairs]:
    return {}


def check_the_output_is_the_same_with_one_or_two_workers(pairs, rng):
    """WORKERS=1 and WORKERS=2 print the same, right digests"""
    if not pairs.runs:
        fail(
            "your program did not finish with exit status 0 when run with WORKERS=1",
            hint="the earlier stages must pass first",
        )
    for serial, parallel in pairs.runs:
        for run in (serial, parallel):
            if run.exit_code != 0:
                fail(
                    f"with WORKERS={run.workers} your program ended with exit status {run.exit_code} "
                    f"(None: still running after {DEADLINE_S:g} s)",
                    expected="exit status 0",
                )
        expect_equal(parallel.lines, serial.lines, "the output with WORKERS=2 (compared with WORKERS=1)")
    lines = pairs.runs[0][0].lines
    # The whole list would cost the grader as much CPU as the program: two lines, chosen by the seed, are checked.
    wanted = [f"{job.line} OK {job.reply(0).body} {digest(job.reply(0).body, ROUNDS)}" for job in pairs.jobs]
    for index in rng.sample(range(len(pairs.jobs)), 2):
        expect_equal(lines[index] if index < len(lines) else "", wanted[index], f"the line of {pairs.jobs[index].line}")
    shapes = [f"{line.rsplit(' ', 1)[0]} {'0' * 64}" for line in wanted]  # every other digest: its shape only
    got = [
        f"{line.rsplit(' ', 1)[0]} {'0' * 64}" if HEX64.fullmatch(line.rsplit(" ", 1)[-1]) else line for line in lines
    ]
    expect_lines(got, shapes, pairs.runs[0][0].ends_with_newline)


def check_two_digests_are_computed_at_once(pairs, run_info):
    """With WORKERS=2, two threads or processes are running digests at the same moment"""
    if run_info.sandbox != "process":
        log("the sandbox's processes are not visible here: the speed-up alone judges this stage")
        return
    share = max((parallel.seen.share for _, parallel in pairs.runs), default=0.0)
    if share < PARALLEL_SHARE:
        fail(
            f"with WORKERS=2, two of your program's threads or processes were runnable at once in only {share:.0%} "
            "of the moments it was computing",
            expected=f"at least {PARALLEL_SHARE:.0%}: two digests at a time",
            hint="threads run Python code one at a time (the GIL): compute digests in a pool of WORKERS processes",
        )


def check_two_workers_are_faster(pairs):
    """WORKERS=2 is at least 1.25 times as fast as WORKERS=1, wherever the machine gave it two cores"""
    judged = [
        (serial.took / parallel.took, parallel) for serial, parallel in pairs.runs if cores_given(parallel) >= GIVEN
    ]
    for serial, parallel in pairs.runs:
        log(f"WORKERS=2 got {cores_given(parallel):.2f} cores' worth of CPU; {serial.took / parallel.took:.2f}× faster")
    if not judged:
        log(f"the machine never gave your WORKERS=2 run {GIVEN} cores' worth of CPU: its speed-up is not judged")
        return
    best = max(ratio for ratio, _ in judged)
    if best < SPEED_UP:
        fail(
            f"with WORKERS=2 your program used {max(cores_given(p) for _, p in judged):.1f} cores' worth of CPU, "
            f"yet it was at best {best:.2f} times as fast as with WORKERS=1",
            expected=f"at least {SPEED_UP}×",
            got=", ".join(f"{ratio:.2f}×" for ratio, _ in judged),
            hint="split the digests between the workers: each computed once, by one of them",
        )


def cores_given(run: Timed) -> float:
    """CPU seconds per second of the run: two workers busy on two free cores come close to 2."""
    return run.seen.cpu_seconds / run.took
