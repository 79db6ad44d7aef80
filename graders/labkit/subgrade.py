"""Gradings in child processes, several at a time: a cohort's submissions, a lab's mutants.

Each child is a `labkit grade` in a session of its own with a wall-clock budget. Over budget, or when this process
is interrupted (Ctrl-C, SIGTERM), a child gets SIGINT, the same orderly stop as Ctrl-C (services closed, learner
processes killed), then SIGKILL; a sweep by its run-id prefix removes whatever it left.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from labkit.engine import interruptible
from labkit.settings import RUN_ID_PREFIX
from labkit.sweep import kill_marked

STOP_GRACE_S = 15.0
Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

_running: set[subprocess.Popen[str]] = set()
_running_lock = threading.Lock()  # guards _running and the start of a grading against a stop in between
_stopping = threading.Event()  # set once interrupted: no grading starts any more
INTERRUPTED = "not graded: the run was interrupted"


def grade_all(
    items: Iterable[Item], work: Callable[[Item], Outcome], jobs: int, on_done: Callable[[Outcome], None]
) -> list[Outcome]:
    """``work`` on every item, ``jobs`` at a time; ``on_done`` sees each outcome in the items' order. On Ctrl-C or
    SIGTERM nothing new starts and every running grading is stopped before the interruption goes on."""
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = [pool.submit(work, item) for item in items]
        outcomes = []
        for future in futures:
            outcome = future.result()
            on_done(outcome)
            outcomes.append(outcome)
        return outcomes
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        with _running_lock:  # a worker between two gradings starts no new one once this is set
            _stopping.set()
            running = list(_running)
        stoppers = [threading.Thread(target=_stop_group, args=(process,)) for process in running]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        raise
    finally:
        pool.shutdown(wait=True)
        _stopping.clear()


def run_grade(command: list[str], timeout_s: float) -> tuple[dict[str, Any] | None, int, str]:
    """(result JSON, exit code, why there is none).

    Over time, the grading process group gets SIGINT, the same clean stop as Ctrl-C (services closed, learner
    processes killed), then SIGKILL; a sweep by this submission's run-id prefix removes whatever was left.
    """
    prefix = f"lkc{uuid.uuid4().hex[:10]}"
    env = {**os.environ, RUN_ID_PREFIX: prefix}
    with _running_lock:
        if _stopping.is_set():
            return None, 2, INTERRUPTED
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
            preexec_fn=interruptible,  # _stop_group interrupts it first, for an orderly teardown
        )
        _running.add(process)
    with process:
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _stop_group(process, drain=True)
            return None, 2, f"grading took longer than {timeout_s:g} s"
        finally:
            with _running_lock:
                _running.discard(process)
            kill_marked(prefix, prefix=True)
    try:
        data: dict[str, Any] = json.loads(stdout)
    except json.JSONDecodeError:
        tail = stderr.strip().splitlines()[-1:] or ["no output"]
        return None, process.returncode, f"grading exited with code {process.returncode} without a result: {tail[0]}"
    return data, process.returncode, ""


def _stop_group(process: subprocess.Popen[str], *, drain: bool = False) -> None:
    """SIGINT, then SIGKILL after a grace period. ``drain``: read the pipes meanwhile, so a grading that reports on
    its way out does not block on a full pipe; only the grading's own thread may, as on an interruption it is still
    reading them itself (two readers of one pipe break each other), and a stopper then only waits."""
    for sig, grace in ((signal.SIGINT, STOP_GRACE_S), (signal.SIGKILL, STOP_GRACE_S)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.communicate(timeout=grace) if drain else process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
