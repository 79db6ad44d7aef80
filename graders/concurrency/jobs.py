"""The job lists the grader serves, and what the README says a client must print for them."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

RETRYABLE = frozenset({429, 500, 502, 503, 504})
WORDS = (
    "amber",
    "basil",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "grove",
    "heron",
    "indigo",
    "juniper",
    "kestrel",
    "lotus",
    "maple",
    "nectar",
    "onyx",
    "pepper",
    "quartz",
    "raven",
    "sage",
    "tundra",
    "umber",
    "violet",
    "willow",
    "yarrow",
)


@dataclass(frozen=True)
class Reply:
    """How the upstream answers one attempt."""

    status: int = 200
    body: str = ""
    delay: float = 0.0  # seconds before the answer
    retry_after: int | None = None  # seconds, sent as a Retry-After header
    blackhole: bool = False  # read the request, never answer
    # Read the request, then end the connection without a byte of answer: "close" (a FIN) or "reset" (an RST).
    hang_up: Literal["", "close", "reset"] = ""
    held: bool = False  # answered only once every other job has sent its first attempt (or after HOLD_MAX_S)


@dataclass(frozen=True)
class Job:
    method: str
    path: str
    replies: tuple[Reply, ...]  # attempt n gets replies[n], the last one again for every later attempt

    def reply(self, attempt: int) -> Reply:
        return self.replies[min(attempt, len(self.replies) - 1)]

    @property
    def line(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Knobs:
    """The environment a run gets (README: the table of variables)."""

    limit: int = 4
    timeout_ms: int = 2000
    retries: int = 2
    backoff_ms: int = 200
    rounds: int = 20
    workers: int = 2

    def env(self, upstream: str) -> dict[str, str]:
        return {
            "UPSTREAM": upstream,
            "LIMIT": str(self.limit),
            "TIMEOUT_MS": str(self.timeout_ms),
            "RETRIES": str(self.retries),
            "BACKOFF_MS": str(self.backoff_ms),
            "ROUNDS": str(self.rounds),
            "WORKERS": str(self.workers),
        }


def digest(body: str, rounds: int) -> str:
    value = body.encode()
    for _ in range(rounds):
        value = hashlib.sha256(value).digest()
    return value.hex()


def outcome(job: Job, knobs: Knobs) -> str:
    """The README's outcome for ``job``: the grader's delays stay far from TIMEOUT_MS, so there is one answer."""
    attempt = 0
    while True:
        reply = job.reply(attempt)
        if reply.blackhole or reply.delay * 1000 >= knobs.timeout_ms:
            return "TIMEOUT"
        if reply.hang_up:
            return "FAILED 0"
        if reply.status == 200:
            return f"OK {reply.body} {digest(reply.body, knobs.rounds)}"
        if job.method == "GET" and reply.status in RETRYABLE and attempt < knobs.retries:
            attempt += 1
            continue
        return f"FAILED {reply.status}"


def expected_lines(jobs: Sequence[Job], knobs: Knobs) -> list[str]:
    return [f"{job.line} {outcome(job, knobs)}" for job in jobs]


def attempts_expected(job: Job, knobs: Knobs) -> int:
    """How many attempts the README allows and requires for ``job``."""
    attempt = 0
    while job.method == "GET" and attempt < knobs.retries:
        reply = job.reply(attempt)
        if reply.blackhole or reply.hang_up or reply.status not in RETRYABLE:
            break
        attempt += 1
    return attempt + 1


class Names:
    """Unique paths and bodies for one run, drawn from its seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def path(self, prefix: str = "doc") -> str:
        while True:
            name = f"{self.rng.choice(WORDS)}-{self.rng.randrange(10, 10_000)}"
            if name not in self.used:
                self.used.add(name)
                return f"/{prefix}/{name}"

    def body(self) -> str:
        return f"{self.rng.choice(WORDS)}-{self.rng.getrandbits(48):012x}"

    def ok(self, delay: float = 0.0, method: str = "GET", prefix: str = "doc") -> Job:
        return Job(method, self.path(prefix), (Reply(200, self.body(), delay),))

    def failing(self, *replies: Reply, method: str = "GET", then_ok: bool = True) -> Job:
        """A job whose attempts get ``replies`` in turn, then 200 if ``then_ok``."""
        tail = (Reply(200, self.body()),) if then_ok else ()
        return Job(method, self.path("orders" if method == "POST" else "doc"), (*replies, *tail))
