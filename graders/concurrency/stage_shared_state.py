"""Stage 8: a tally that every worker updates stays exact. With TALLY=1 the program adds a line with the attempts
it sent and the body bytes it read; the grader compares both with what its upstream counted itself, in runs made
for an unguarded update to show every time: the upstream answers in bursts of LIMIT, so that the workers update
the tally together, and a Python program's threads switch inside its own code at every instruction (switch_hook.py,
loaded as sitecustomize from PYTHONPATH)."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

import pytest

from jobs import Job, Knobs, Names, Reply, expected_lines
from labkit.checks import concurrently, fail, log
from labkit.learners import RunInfo
from runs import Run, expect_lines
from upstream import Burst, Record

SWITCH_INTERVAL_US = 5  # README: what the grader sets SWITCH_INTERVAL_US to
LIMITS = (6, 16)
HOOK = Path(__file__).with_name("switch_hook.py")
HOOK_FOLDER = "thread-switches"  # README: the folder of the run the grader puts on PYTHONPATH
BURST_QUIET_S = 0.02  # README: a burst that does not fill is answered after this long without a new attempt
BURST_LONGEST_S = 0.5  # README: and no answer is held longer


def switch_hook_folder(run_info: RunInfo) -> Path:
    """A folder of the run holding the hook as sitecustomize.py, readable by the program (in the sandbox too, where
    the run folder is mounted read-only at its own path)."""
    folder = run_info.run_dir / HOOK_FOLDER
    folder.mkdir(exist_ok=True)
    folder.chmod(0o755)
    shutil.copyfile(HOOK, folder / "sitecustomize.py")
    (folder / "sitecustomize.py").chmod(0o644)
    return folder


def tally_jobs(names: Names, rng) -> list[Job]:
    """Fast jobs with bodies of many lengths, some retried once or twice, some failing for good."""
    jobs = []
    for index in range(rng.randrange(30, 40)):  # README: about thirty-five
        body = names.body() + "x" * rng.randrange(0, 1500)
        kind = index % 6
        if kind == 0:
            jobs.append(names.failing(Reply(503, "busy-" + "b" * rng.randrange(0, 300)), Reply(200, body)))
        elif kind == 1:
            jobs.append(names.failing(Reply(429, "slow-down"), Reply(502, "bad-gateway"), Reply(200, body)))
        elif kind == 2:
            jobs.append(names.failing(Reply(404, "no-" + "n" * rng.randrange(0, 200)), then_ok=False))
        elif kind == 3:
            jobs.append(names.failing(Reply(200, body), method="POST", then_ok=False))
        else:
            jobs.append(Job("GET", names.path(), (Reply(200, body),)))
    rng.shuffle(jobs)
    return jobs


def upstream_tally(run: Run) -> tuple[int, int]:
    """The attempts the upstream read and the body bytes of the answers it wrote, counted on its side."""
    record: Record = run.record
    by_path = {job.path: job for job in run.jobs}
    answered = [a for a in record.attempts if a.answered is not None]
    return len(record.attempts), sum(len(by_path[a.path].reply(a.number).body.encode()) for a in answered)


@pytest.fixture
def tallied(client, other_client, names, rng, run_info, shared_runs) -> list[Run]:
    """One run per LIMIT, both at once on upstreams of their own, with TALLY=1, SWITCH_INTERVAL_US set, the switch
    hook on PYTHONPATH and answers in bursts. Both verdicts are counts, not durations: the runs may share the
    machine."""
    if "runs" not in shared_runs:
        hook = switch_hook_folder(run_info)
        log(f"PYTHONPATH={hook}: a Python program's threads switch before every instruction of its own code")
        env = {"TALLY": "1", "SWITCH_INTERVAL_US": str(SWITCH_INTERVAL_US), "PYTHONPATH": str(hook)}
        jobs = {limit: tally_jobs(names, rng) for limit in LIMITS}
        runs = concurrently(
            {
                f"LIMIT={limit}": partial(
                    runner,
                    jobs[limit],
                    Knobs(limit=limit, retries=2, backoff_ms=20, rounds=2),
                    env=env,
                    burst=Burst(limit, BURST_QUIET_S, BURST_LONGEST_S),
                )
                for limit, runner in zip(LIMITS, (client, other_client), strict=True)
            }
        )
        shared_runs["runs"] = list(runs.values())
    found: list[Run] = shared_runs["runs"]
    return found


@pytest.fixture(scope="module")
def shared_runs() -> dict[str, list[Run]]:
    return {}


def reported_tally(run: Run) -> tuple[int, int]:
    """The program's TALLY line, after the result lines that must come first, exactly as in every other stage."""
    run.expect_finished()
    lines = run.lines
    expect_lines(lines[: len(run.jobs)], expected_lines(run.jobs, run.knobs), True)
    last = lines[len(run.jobs)] if len(lines) > len(run.jobs) else "no line"
    fields = last.split(" ")
    if (
        len(lines) != len(run.jobs) + 1
        or len(fields) != 3
        or fields[0] != "TALLY"
        or not all(field.isdigit() for field in fields[1:])
    ):
        fail(
            "with TALLY=1, your last line is not the tally",
            expected="TALLY ATTEMPTS BYTES, after the result lines",
            got=last if len(lines) <= len(run.jobs) + 1 else f"{len(lines) - len(run.jobs)} lines after the results",
            hint="when TALLY is 1, print one more line: TALLY, the attempts sent, the body bytes read",
        )
    return int(fields[1]), int(fields[2])


def check_the_tally_counts_every_attempt(tallied):
    """TALLY's attempts equal the requests the upstream read, retries included, with LIMIT 6 and 16"""
    for run in tallied:
        (attempts, _), (counted, _) = reported_tally(run), upstream_tally(run)
        log(f"LIMIT={run.knobs.limit}: your tally says {attempts} attempts, the upstream read {counted}")
        if attempts != counted:
            fail(
                f"with LIMIT={run.knobs.limit}, your tally of attempts is not what the upstream counted",
                expected=f"{counted} attempts",
                got=f"{attempts}",
                hint="count every attempt, retries included, once: an update of shared state from many workers "
                "needs a lock (threads) or no await between its read and its write (asyncio)",
            )


def check_the_tally_counts_every_byte(tallied):
    """TALLY's bytes equal the body bytes the upstream wrote, however many workers read them at once"""
    for run in tallied:
        (_, size), (_, counted) = reported_tally(run), upstream_tally(run)
        log(f"LIMIT={run.knobs.limit}: your tally says {size} bytes, the upstream wrote {counted}")
        if size != counted:
            fail(
                f"with LIMIT={run.knobs.limit}, your tally of body bytes is not what the upstream wrote",
                expected=f"{counted} bytes",
                got=f"{size}" + (" (updates were lost)" if size < counted else ""),
                hint="the total is read and written by many workers: an update between whose read and write "
                "another worker can run (an await, a thread switch) loses the other's update; use a lock, or add "
                "without an await in between",
            )
