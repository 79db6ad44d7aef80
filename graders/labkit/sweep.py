"""Finding and killing learner processes that escaped their process group.

Every learner process is started with ``LABKIT_RUN_MARKER=<run id>.<n>`` in its environment. A double-forked
daemon leaves the session and the process group, but it keeps its environment, so the sweep finds it by marker.
"""

from __future__ import annotations

import os
import signal

import psutil

MARKER_VARIABLE = "LABKIT_RUN_MARKER"


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
    victims = marked_processes(marker, prefix=prefix)
    for process in victims:
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.Error:
            continue
    psutil.wait_procs(victims, timeout=3)
    return len(victims)
