"""A gate in front of Redis writes, so that a race between learner clients happens on every run, not once in a while.

While the gate is closed (``CLIENT PAUSE ... WRITE``, Redis 6.2+), the server answers reads but holds every
command that may write: SET, INCR, ZADD, EVAL, EXEC, XREADGROUP... The grader starts concurrent calls, waits
until each of them has either returned or is held at the gate, then opens it. A check-then-act implementation
has by then done all its checks (the reads went through) and all its acts are queued behind each other, which
is exactly the interleaving that breaks it. An atomic implementation is held as a whole (its script or
transaction is one command) and runs one caller after the other.
"""

from __future__ import annotations

import redis

from labkit.errors import HarnessError
from labkit.settings import REDIS_URL

SAFETY_PAUSE_MS = 10_000  # the server opens the gate by itself if the grader dies while it is closed


class WriteGate:
    """``admin`` is the grader's unrestricted connection; ``learner_user`` the ACL user of the learner's clients,
    whose connections :meth:`held` counts. A ``labkit.pool.Gate``: ``pool.run(calls, gate=gate)`` drives it."""

    def __init__(self, admin: redis.Redis, learner_user: str) -> None:
        self._admin = admin
        self._user = learner_user

    def close(self) -> None:
        try:
            self._admin.client_pause(SAFETY_PAUSE_MS, all=False)
        except redis.ResponseError as error:
            raise HarnessError(
                f"this lab needs Redis 6.2 or newer (CLIENT PAUSE ... WRITE failed: {error})",
                hint=f"use --services embedded or docker, or point {REDIS_URL} at Redis 6.2+",
            ) from error

    def open(self) -> bool:
        """Lets every held command through; True: the gate opens in one step."""
        self._admin.client_unpause()
        return True

    def held(self) -> int:
        """How many of the learner's connections are waiting: held at the gate, or in a blocking command."""
        return sum(
            1 for entry in self._admin.client_list() if entry.get("user") == self._user and "b" in entry["flags"]
        )
