"""Stage 7: digests computed in parallel. The same job list with WORKERS=1 and WORKERS=2: the same output, the work
shared by two processes (or a measured speed-up), and the parallel run at least 1.25 times as fast wherever the
machine gave it two cores.

A machine shared with other work may not give the program two cores at that moment, and then no program shows a
speed-up. So parallelism is judged first by where the CPU time went (per process, from /proc, which load does not
change), and the speed-up only in runs whose WORKERS=2 program got 1.5 CPU-seconds per second or more."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pytest

from cores import CpuUse, Sampler
from jobs import Job, Knobs, digest
from labkit.checks import expect_equal, fail, log
from labkit.readiness import NoReadiness
from runs import expect_lines
from upstream import Upstream

SPEED_UP = 1.25  # README
GIVEN = 1.5  # README: the speed-up is judged when the WORKERS=2 run got 1.5 cores' worth of CPU or more
SHARE = 0.25  # README: two processes each did at least a quarter of the CPU work
PAIRS = 3
PAIRS_WITHIN_S = 15.0  # no new pair starts after this: a busy machine makes every run slow
ROUNDS = 100_000  # about 0.5 s of SHA-256 in CPython for the whole list
DEADLINE_S = 20.0
HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Timed:
    workers: int
    lines: list[str]
    ends_with_newline: bool
    exit_code: int | None
    took: float
    cpu: CpuUse

    @property
    def cores_given(self) -> float:
        """CPU seconds per second of the run: two workers busy on two free cores come close to 2."""
        return self.cpu.cpu_seconds / self.took


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
    shares = ", ".join(f"{share:.0%}" for share in sampler.seen.shares())
    log(f"WORKERS={workers}: {took:.2f} s, {sampler.seen.cpu_seconds:.2f} CPU-seconds; shares by process: {shares}")
    return Timed(
        workers, stdout.decode(errors="replace").splitlines(), stdout.endswith(b"\n"), code, took, sampler.seen
    )


@pytest.fixture
def pairs(start_learner, upstream, names, shared_runs) -> Pairs:
    """Pairs of runs, WORKERS=1 then WORKERS=2, until one shows the speed-up or the shares settle it on a busy
    machine (at most three, within 15 s)."""
    if "pairs" not in shared_runs:
        jobs = tuple(names.ok() for _ in range(10))
        done = Pairs(jobs, [])
        began = time.monotonic()
        while len(done.runs) < PAIRS and time.monotonic() - began < PAIRS_WITHIN_S:
            serial = timed(start_learner, upstream, jobs, 1)
            if serial.exit_code != 0:
                break  # the first check says why
            parallel = timed(start_learner, upstream, jobs, 2)
            done.runs.append((serial, parallel))
            if done.ratios[-1] >= SPEED_UP or shared_on_a_busy_machine(parallel):
                break
        shared_runs["pairs"] = done
    found: Pairs = shared_runs["pairs"]
    return found


def shared_on_a_busy_machine(parallel: Timed) -> bool:
    """Two processes shared the work, and the machine could not give them two cores: another pair, on the same
    busy machine, would most likely not be judged either."""
    working = sum(share >= SHARE for share in parallel.cpu.shares())
    return working >= 2 and parallel.cores_given < GIVEN


@pytest.fixture(scope="module")
def shared_runs() -> dict[str, Pairs]:
    return {}


def check_the_output_is_the_same_with_one_or_two_workers(pairs, rng):
    """WORKERS=1 and WORKERS=2 print the same, right digests"""
    if not pairs.runs:
        fail("your program did not finish with exit status 0 when run with WORKERS=1", expected="exit status 0")
    for serial, parallel in pairs.runs:
        for run in (serial, parallel):
            if run.exit_code != 0:
                fail(
                    f"with WORKERS={run.workers} your program did not end with exit status 0",
                    expected="exit status 0",
                    got=f"{run.exit_code} (None: still running after {DEADLINE_S:g} s)",
                )
        expect_equal(parallel.lines, serial.lines, "the output with WORKERS=2 (compared with WORKERS=1)")
    lines = pairs.runs[0][0].lines
    # The whole list would cost the grader as much CPU as the program: two lines, chosen by the seed, are checked.
    for index in rng.sample(range(len(pairs.jobs)), 2):
        job = pairs.jobs[index]
        got = lines[index] if index < len(lines) else "no line"
        expect_equal(
            got, f"{job.line} OK {job.reply(0).body} {digest(job.reply(0).body, ROUNDS)}", f"the line of {job.line}"
        )
    shapes = [f"{job.line} OK {job.reply(0).body} {'0' * 64}" for job in pairs.jobs]  # every digest: its shape
    got = [
        f"{line.rsplit(' ', 1)[0]} {'0' * 64}" if HEX64.fullmatch(line.rsplit(" ", 1)[-1]) else line for line in lines
    ]
    expect_lines(got, shapes, pairs.runs[0][0].ends_with_newline)


def check_the_digests_are_shared_between_processes(pairs, run_info):
    """With WORKERS=2, two processes each compute a share of the digests (or, on two free cores, run faster)"""
    shares = [parallel.cpu.shares() for _, parallel in pairs.runs]
    working = max((sum(share >= SHARE for share in run) for run in shares), default=0)
    if working >= 2 or max(judged_ratios(pairs, run_info.sandbox), default=0.0) >= SPEED_UP:
        return
    fail(
        "with WORKERS=2, one process of yours did nearly all the CPU work, and two workers were no faster than one",
        expected=f"two processes each doing at least {SHARE:.0%} of the CPU work, or a {SPEED_UP}× speed-up",
        got="CPU time by process: " + "; ".join(", ".join(f"{s:.0%}" for s in run) for run in shares)
        + " — speed-ups: " + ", ".join(f"{ratio:.2f}×" for ratio in pairs.ratios),
        hint="Python threads run Python code one at a time (the GIL): compute digests in a pool of WORKERS processes",
    )  # fmt: skip


def check_two_workers_are_faster(pairs, run_info):
    """WORKERS=2 is at least 1.25 times as fast as WORKERS=1, wherever the machine gave it two cores"""
    for (_, parallel), ratio in zip(pairs.runs, pairs.ratios, strict=True):
        log(f"WORKERS=2 got {parallel.cores_given:.2f} cores' worth of CPU and was {ratio:.2f}× as fast")
    judged = [
        ratio for (_, parallel), ratio in zip(pairs.runs, pairs.ratios, strict=True) if parallel.cores_given >= GIVEN
    ]
    if not judged:
        log(f"the machine never gave your WORKERS=2 run {GIVEN} cores' worth of CPU: the speed-up is not judged")
        return
    if max(judged) < SPEED_UP:
        fail(
            f"with WORKERS=2 your program used at least {GIVEN} cores' worth of CPU, yet it was not "
            f"{SPEED_UP} times as fast as with WORKERS=1",
            expected=f"at least {SPEED_UP}×",
            got=", ".join(f"{ratio:.2f}×" for ratio in judged),
            hint="split the digests between the workers: each computed once, by one of them",
        )


def judged_ratios(pairs: Pairs, sandbox: str) -> list[float]:
    """The speed-ups of the pairs whose WORKERS=2 run got two cores' worth of CPU: only those say anything. In a
    sandbox the program's processes are not visible here, and its container's CPU quota is known: every pair."""
    if sandbox != "process":
        return pairs.ratios
    return [
        ratio for (_, parallel), ratio in zip(pairs.runs, pairs.ratios, strict=True) if parallel.cores_given >= GIVEN
    ]
