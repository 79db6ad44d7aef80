"""How many of a program's threads and processes are runnable at once, sampled from /proc while it runs.

A thread waiting for a CPU is runnable ("R") as much as one running on it, so this sees parallel CPU work even on
a machine too busy to show a speed-up: two worker processes hashing are both runnable nearly all the time, while
two Python threads take turns holding the GIL and the waiting one sleeps. The program runs in its own session
(the harness starts it with setsid), so its processes are the ones whose session id is its pid.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

SAMPLE_EVERY_S = 0.02
RESCAN_EVERY_S = 0.1  # new worker processes are found this often
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
UTIME, STIME = 11, 12  # stat fields 14 and 15, counted from the state (field 3)


@dataclass
class Parallelism:
    busy: int = 0  # samples with at least one runnable task
    parallel: int = 0  # samples with at least two
    pids: set[int] = field(default_factory=set)  # every process seen in the program's session
    ticks: dict[tuple[int, int], int] = field(default_factory=dict)  # CPU time of each thread, as last seen

    @property
    def share(self) -> float:
        return self.parallel / self.busy if self.busy else 0.0

    @property
    def cpu_seconds(self) -> float:
        return sum(self.ticks.values()) / CLOCK_TICKS


class Sampler:
    def __init__(self, session: int) -> None:
        self.session = session
        self.seen = Parallelism()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="cores-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)

    def run(self) -> None:
        members: list[int] = []
        rescanned = 0.0
        while not self.stop.wait(SAMPLE_EVERY_S):
            if time.monotonic() - rescanned > RESCAN_EVERY_S:
                members = self.members()
                self.seen.pids.update(members)
                rescanned = time.monotonic()
            runnable = sum(self.sample_tasks(pid) for pid in members)
            self.seen.busy += runnable >= 1
            self.seen.parallel += runnable >= 2

    def members(self) -> list[int]:
        found = []
        for entry in os.scandir("/proc"):
            fields = stat_fields(f"/proc/{entry.name}/stat") if entry.name.isdigit() else None
            if fields is not None and len(fields) > 3 and fields[3] == str(self.session):
                found.append(int(entry.name))
        return found

    def sample_tasks(self, pid: int) -> int:
        """How many threads of ``pid`` are runnable; records the CPU time of each."""
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return 0
        runnable = 0
        for task in tasks:
            fields = stat_fields(f"/proc/{pid}/task/{task}/stat")
            if fields is None or len(fields) <= STIME:
                continue
            runnable += fields[0] == "R"
            self.seen.ticks[(pid, int(task))] = int(fields[UTIME]) + int(fields[STIME])
        return runnable


def stat_fields(path: str) -> list[str] | None:
    """The fields of a stat file after the command name (state, ppid, pgrp, session, ...)."""
    try:
        with open(path, "rb") as stat:
            text = stat.read().decode(errors="replace")
    except OSError:
        return None  # the process or thread ended
    return text[text.rfind(")") + 2 :].split()
