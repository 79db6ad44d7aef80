"""Hostile: a fork bomb with a safety cap, so it demonstrates containment without harming the machine.

Every process of the bomb keeps forking copies of itself (exponential growth) until the processes together
have claimed CAP slots, counted in a lock-protected file. Each copy calls setsid(), so killing the process group
misses it, records its pid (when its folder is writable) and becomes a `sleep`. A refused fork (a process
limit that binds) ends that process's replication. The started process exits 3 when the cap is reached or
the bomb stops growing.
"""

import fcntl
import os
import sys
import time

CAP = 300
scratch = os.environ.get("TMPDIR", "/tmp")
COUNTER = os.path.join(scratch, "bomb.count")
PIDS = os.path.join(os.getcwd(), "pids.txt")
SLEEP = "/bin/sleep" if os.path.exists("/bin/sleep") else "/usr/bin/sleep"


def claim() -> bool:
    """Takes one of the CAP slots; False when they are all gone."""
    with open(COUNTER, "a+b") as counter:
        fcntl.flock(counter, fcntl.LOCK_EX)
        counter.seek(0, os.SEEK_END)
        if counter.tell() >= CAP:
            return False
        counter.write(b"x")
        return True


def claimed() -> int:
    try:
        return os.path.getsize(COUNTER)
    except OSError:
        return 0


def record_pid() -> None:
    """Appends "<pid> <start time>", so the test can tell this process from a later one reusing the pid."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            started = stat.read().rsplit(")", 1)[1].split()[19]
        with open(PIDS, "a", encoding="ascii") as pids:
            pids.write(f"{os.getpid()} {started}\n")
    except OSError:
        pass  # a read-only folder (the docker sandbox): the container's removal is the proof there


def replicate() -> None:
    while claim():
        try:
            pid = os.fork()
        except OSError:
            return  # a process limit that binds
        if pid == 0:
            os.setsid()
            record_pid()
            replicate()
            os.execv(SLEEP, ["sleep", "600"])


replicate()
last, stalled_since = -1, time.monotonic()
while claimed() < CAP and time.monotonic() - stalled_since < 1.0:  # the cap, or forks refused everywhere
    if claimed() != last:
        last, stalled_since = claimed(), time.monotonic()
    time.sleep(0.01)
print(f"fork bomb: {claimed()} processes claimed", file=sys.stderr)
sys.exit(3)
