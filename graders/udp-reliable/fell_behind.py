"""When the grader, playing the receiver, falls behind the sender's timer, what it saw proves nothing: try again.

A check of the sender's timer relies on the grader answering, or acknowledging nothing new, on time. On a loaded
machine the grader's own loop sometimes stalls for longer than an RTO_MS; a verdict drawn from such an attempt
could fail a correct sender or pass a broken one. The check then says so in its transcript and runs again with a
fresh sender; an attempt is judged only when the grader kept pace, and if none of a few does, the grader reports
itself too slow, a harness error and never the learner's fault.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from as_receiver import GraderFellBehind, SenderUnderTest
from labkit.checks import log
from labkit.errors import HarnessError

ATTEMPTS = 3
DISMISS_S = 3.0  # how long a dismissed sender gets to exit once its FIN is acknowledged (not judged)


def judged_in_attempts(start: Callable[[], SenderUnderTest], judge: Callable[[SenderUnderTest], None]) -> None:
    """Runs ``judge`` on a sender from ``start()`` until one attempt is judged with the grader on time."""
    behind: list[str] = []
    for number in range(1, ATTEMPTS + 1):
        with start() as sender:
            try:
                judge(sender)
                return
            except GraderFellBehind as slow:
                behind.append(str(slow))
                log(f"attempt {number} of {ATTEMPTS} proves nothing: {slow}; the grader tries again")
                sender.dismiss(DISMISS_S)
    raise HarnessError(
        f"the grader itself was too slow to judge this check in {ATTEMPTS} attempts: {'; '.join(behind)}",
        hint="the machine is overloaded; grade again when it is less busy",
    )


def longest_silence(times: list[float]) -> float:
    """The longest interval between consecutive moments of ``times`` (in order), 0 for fewer than two."""
    return max((later - earlier for earlier, later in itertools.pairwise(times)), default=0.0)
