"""How long the grader itself went without running: a verdict reached while it stalled may not be the learner's.

Graders hold learners to time limits (a change within 2 s, an answer before a deadline). On a loaded machine (a
cohort graded on two cores, a CI run beside image builds, a noisy neighbour) the grader's process sometimes gets no
CPU for a second or more; a correct program can then miss a limit the grader was not there to watch. A thread
that only sleeps and wakes measures this: how much later than asked it woke is time the whole process could not
run. The plugin runs a check again when its first attempt failed while the grader stalled this long
(:data:`STALL_S`); the second attempt's verdict stands, whatever happens in it.
"""

from __future__ import annotations

import threading
import time

TICK_S = 0.05  # how often the watcher wakes: cheap (20 wake-ups a second), fine enough for half-second stalls
STALL_S = 0.5  # a stall this long makes a failed first attempt prove nothing: it is tried once more


class StallWatch:
    """The longest stall of this process since the last :meth:`restart`, measured by a sleeping daemon thread."""

    def __init__(self, tick_s: float = TICK_S) -> None:
        self._tick_s = tick_s
        self._lock = threading.Lock()
        self._longest = 0.0
        self._woke = time.monotonic()  # when the thread last woke: a stall may be going on now, not yet measured
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="labkit-stall-watch", daemon=True)
            self._thread.start()

    def restart(self) -> None:
        """Starts a new measurement (a check begins)."""
        with self._lock:
            self._longest = 0.0
            self._woke = time.monotonic()

    def longest(self) -> float:
        """The longest stall, in seconds, since the last restart."""
        with self._lock:
            return max(self._longest, time.monotonic() - self._woke - self._tick_s)

    def _watch(self) -> None:
        while True:
            time.sleep(self._tick_s)
            now = time.monotonic()
            with self._lock:
                self._longest = max(self._longest, now - self._woke - self._tick_s)
                self._woke = now
