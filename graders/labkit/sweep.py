"""Finding and killing learner processes that escaped their process group.

Every learner process is started with ``LABKIT_RUN_MARKER=<run id>.<n>`` in its environment. A double-forked
daemon leaves the session and the process group, but it keeps its environment, so the sweep finds it by marker.

A program can also drop the marker (re-executing itself with a clean environment). What it cannot leave is its
ancestry: the grader makes itself the subreaper of its descendants (``adopt_orphans``), so such a daemon is
re-parented to the grader instead of init, and ``kill_descendants`` finds it there.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Iterable

import psutil

from labkit.wait import until

MARKER_VARIABLE = "LABKIT_RUN_MARKER"
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
DESCENDANT_ROUNDS = 20
KILL_WAIT_S = 3.0


def marked_processes(marker: str, *, prefix: bool = False) -> list[psutil.Process]:
    """Processes whose marker equals ``marker`` (or starts with it, to catch a whole run)."""
    needle = f"{MARKER_VARIABLE}={marker}".encode()
    found = []
    for pid in psutil.pids():
        if pid == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                entries = handle.read().split(b"\0")
        except OSError:
            continue
        if any(entry.startswith(needle) if prefix else entry == needle for entry in entries):
            try:
                found.append(psutil.Process(pid))
            except psutil.Error:
                continue
    return found


def kill_marked(marker: str, *, prefix: bool = False) -> int:
    """SIGKILLs every process carrying the marker and waits for them; returns how many there were."""
    return kill_processes(marked_processes(marker, prefix=prefix))


def adopt_orphans() -> bool:
    """Makes this process the subreaper of its descendants (Linux 3.4+): a process whose parent exits is
    re-parented here instead of to init, so it stays a descendant. Returns False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    return int(ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return []


def kill_processes(victims: Iterable[psutil.Process]) -> int:
    """SIGKILLs ``victims`` (psutil checks each is still the same process, not a reused pid) and waits until
    they are dead; returns how many there were. A zombie is dead: one that is this process's child (an orphan it
    adopted) is reaped here, the others by their parents."""
    victims = list(victims)
    for process in victims:
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.Error:
            continue
    pending = victims

    def all_dead() -> bool:
        nonlocal pending
        pending = [process for process in pending if not _dead(process)]
        return not pending

    until(all_dead, KILL_WAIT_S)
    return len(victims)


def _dead(process: psutil.Process) -> bool:
    try:
        if not process.is_running():  # gone, or its pid already reused
            return True
        if process.status() != psutil.STATUS_ZOMBIE:
            return False
        if process.ppid() == os.getpid():
            os.waitpid(process.pid, os.WNOHANG)
    except (psutil.NoSuchProcess, ChildProcessError):
        pass
    return True


def kill_descendants() -> int:
    """SIGKILLs every descendant of this process, again until none is left (one may fork while the others die),
    and reaps them; returns how many there were. For the end of a run, when nothing of it may live on."""
    killed = 0
    for _ in range(DESCENDANT_ROUNDS):
        found = descendants(os.getpid())
        if not found:
            break
        killed += kill_processes(found)
    return killed
