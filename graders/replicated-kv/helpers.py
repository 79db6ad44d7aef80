"""Steps several stages share: find the leader or fail saying so, write keys and read them back through nodes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from random import Random

from history import Record
from kvclient import Client, Kv
from labkit.checks import expect_equal, fail

FAILOVER_WAIT_S = 10.0  # the README's 5 s bound, doubled for a loaded machine
ELECTION_HINT = (
    "a majority of running, connected nodes must elect a leader that serves clients within 5 s: randomise "
    "election timeouts so that candidates do not keep splitting the vote, and bring a restarted node up to date "
    "or no majority that needs it can commit (README, 'Availability and timing')"
)
LOST_WRITE_HINT = (
    "acknowledge a write only once a majority of nodes has stored it (in DATA_DIR, before it answers): then "
    "any majority that elects the next leader still holds it (README, 'Durability')"
)


def leader_of(kv: Kv, situation: str, among: Sequence[int] | None = None, hint: str = ELECTION_HINT) -> int:
    leader = kv.find_leader(FAILOVER_WAIT_S, among)
    if leader is None:
        nodes = ", ".join(map(str, among if among is not None else range(len(kv.cluster.nodes))))
        fail(
            f"{situation}: no node accepted a write within {FAILOVER_WAIT_S:g} s",
            expected="one node serves reads and writes; the others answer not_leader",
            got=f"nodes {nodes} each answered not_leader, unavailable or unknown, or nothing",
            hint=hint,
        )
    return leader


def values(rng: Random, prefix: str, count: int) -> dict[str, str]:
    """``count`` distinct keys with values that differ from run to run."""
    return {f"{prefix}-{n}": f"{prefix}-value-{rng.randrange(100, 100_000)}" for n in range(count)}


def write_all(client: Client, pairs: dict[str, str], situation: str, hint: str = ELECTION_HINT) -> list[Record]:
    records = []
    for key, value in pairs.items():
        record = client.put(key, value)
        if record.outcome != "ok":
            fail(
                f"{situation}: put {key}={value} was not acknowledged within 10 s",
                expected="ok from the leader (after any redirects)",
                got="; ".join(record.replies[-5:]),
                hint=hint,
            )
        records.append(record)
    return records


def expect_all_read(
    client: Client, pairs: dict[str, str], situation: str, via: int | None = None, hint: str = LOST_WRITE_HINT
) -> None:
    for key, value in pairs.items():
        record = client.get(key, via=via)
        if record.outcome != "ok":
            fail(
                f"{situation}: get {key} got no answer within 10 s",
                expected=f"{value!r}",
                got="; ".join(record.replies[-5:]),
                hint=ELECTION_HINT,
            )
        expect_equal(record.output, value, f"{situation}: get {key} (acknowledged earlier)", hint=hint)


def run_together(*tasks: Callable[[], object], within: float = 60.0) -> None:
    """Runs each task in a thread of its own and waits for all; the first failure of any is the check's."""
    errors: list[BaseException] = []

    def guarded(task: Callable[[], object]) -> None:
        try:
            task()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(task,), daemon=True) for task in tasks]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + within
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if errors:
        raise errors[0]
