"""Which of a program's processes did its CPU work, read from /proc while it runs.

CPU time is counted per process, whatever the machine's load: two worker processes that each compute half of the
digests each show about half of the CPU time, however few cores the machine could spare at that moment, while
threads of one Python process (which take turns under the GIL) show it all in one process. The program runs in its
own session (the harness starts it with setsid), so its processes are those whose session id is its pid.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

SAMPLE_EVERY_S = 0.02
RESCAN_EVERY_S = 0.1  # new worker processes are found this often
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
UTIME, STIME = 11, 12  # stat fields 14 and 15, counted from the state (field 3)


@dataclass
class CpuUse:
    ticks: dict[tuple[int, int], int] = field(default_factory=dict)  # CPU time of each (pid, thread), last seen

    @property
    def cpu_seconds(self) -> float:
        return sum(self.ticks.values()) / CLOCK_TICKS

    def shares(self) -> list[float]:
        """Each process's share of the program's CPU time, largest first."""
        by_process: dict[int, int] = defaultdict(int)
        for (pid, _), ticks in self.ticks.items():
            by_process[pid] += ticks
        total = sum(by_process.values())
        return sorted((ticks / total for ticks in by_process.values()), reverse=True) if total else []


class Sampler:
    def __init__(self, session: int) -> None:
        self.session = session
        self.seen = CpuUse()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="cpu-sampler", daemon=True)

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
                rescanned = time.monotonic()
            for pid in members:
                self.sample(pid)

    def members(self) -> list[int]:
        found = []
        for entry in os.scandir("/proc"):
            fields = stat_fields(f"/proc/{entry.name}/stat") if entry.name.isdigit() else None
            if fields is not None and len(fields) > 3 and fields[3] == str(self.session):
                found.append(int(entry.name))
        return found

    def sample(self, pid: int) -> None:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return  # it ended: its last sample stands
        for task in tasks:
            fields = stat_fields(f"/proc/{pid}/task/{task}/stat")
            if fields is not None and len(fields) > STIME:
                self.seen.ticks[(pid, int(task))] = int(fields[UTIME]) + int(fields[STIME])


def stat_fields(path: str) -> list[str] | None:
    """The fields of a stat file after the command name (state, ppid, pgrp, session, ...)."""
    try:
        with open(path, "rb") as stat:
            text = stat.read().decode(errors="replace")
    except OSError:
        return None  # the process or thread ended
    return text[text.rfind(")") + 2 :].split()
