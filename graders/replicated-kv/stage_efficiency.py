"""Stage 3: the links stay quiet and writes are quick, as ratios to the reference solution run beside the learner's
cluster in the same check (the reference fixture): a loaded machine slows both alike."""

import statistics
import time

from helpers import leader_of, values, write_all
from history import Record
from labkit.checks import expect, log

IDLE_RATIO = 8  # README: idle traffic at most 8 times the reference's, in the same window
WRITE_RATIO = 5  # README: bytes per write, beyond the cluster's own idle traffic, at most 5 times the reference's
LATENCY_RATIO = 8  # README: the median write's round trip at most 8 times the reference's, writes interleaved
MAX_IDLE_CONNECTIONS = 6  # README: a node keeps its connections to its peers; no new one per message
SETTLE_S = 0.3  # connections settle after the first write
IDLE_WINDOW_S = 1.0
WRITES = 40
STORM_HINT = "heartbeats every 50 to 200 ms are plenty; never send in a loop that does not wait (README, 'Efficiency')"
LATENCY_HINT = (
    "send a client's write to the followers at once and answer as soon as a majority stored it; waiting for the "
    "next heartbeat costs every write a heartbeat interval (README, 'Efficiency')"
)


def _ready(kv, name):
    leader_of(kv, f"three fresh nodes ({name})")
    write_all(kv.client(), {"warm-up": "done"}, f"a first write ({name})")


def _idle(pairs, window):
    """Bytes and new connections over each cluster's links during the same ``window`` seconds of no requests."""
    before = [(links.bytes_moved(), links.connections()) for links in pairs]
    time.sleep(window)
    return [(links.bytes_moved() - b, links.connections() - c) for links, (b, c) in zip(pairs, before, strict=True)]


def check_idle_cluster_is_quiet(cluster, kv, links, reference, reference_links):
    """An idle cluster moves at most 8 times the reference's bytes, on the connections it has"""
    _ready(kv, "yours")
    _ready(reference, "the reference")
    time.sleep(SETTLE_S)
    (sent, opened), (yardstick, _) = _idle((links, reference_links), IDLE_WINDOW_S)
    allowed = IDLE_RATIO * max(yardstick, 1)
    log(f"idle for {IDLE_WINDOW_S} s: yours moved {sent} bytes and opened {opened} connections over its six links; "
        f"the reference moved {yardstick} bytes")  # fmt: skip
    expect(
        sent <= allowed,
        f"an idle cluster moved {sent} bytes in {IDLE_WINDOW_S} s; the README allows {IDLE_RATIO} times the "
        f"reference's {yardstick} bytes in the same window, {allowed} here",
        hint=STORM_HINT,
    )
    expect(
        opened <= MAX_IDLE_CONNECTIONS,
        f"an idle cluster opened {opened} new connections between its nodes in {IDLE_WINDOW_S} s; the README "
        f"allows {MAX_IDLE_CONNECTIONS}",
        hint="keep one connection per peer open and reuse it; reconnect only when it breaks",
    )


def check_writes_cost_few_bytes_and_little_time(cluster, kv, links, reference, reference_links, rng):
    """Writes, one after another, cost at most 5 times the reference's bytes and 8 times its median round trip"""
    _ready(kv, "yours")
    _ready(reference, "the reference")
    time.sleep(SETTLE_S)
    window = IDLE_WINDOW_S / 2
    idle = [sent / window for sent, _ in _idle((links, reference_links), window)]
    pairs = {key: value.ljust(100, "x")[:100] for key, value in values(rng, "costly", WRITES).items()}
    clients = kv.client(), reference.client()
    bytes_before, started = links.bytes_moved(), reference_links.bytes_moved()
    began = time.monotonic()
    rounds: list[list[Record]] = [[], []]
    situations = "writes in a row", "writes in a row (the reference)"
    for n, (key, value) in enumerate(pairs.items()):  # interleaved, each first in turn: both meet the same load
        for side in (n % 2, 1 - n % 2):
            rounds[side] += write_all(clients[side], {key: value}, situations[side])
    elapsed = time.monotonic() - began
    moved = links.bytes_moved() - bytes_before, reference_links.bytes_moved() - started
    per_write = [max(1.0, (moved[n] - idle[n] * elapsed) / WRITES) for n in range(2)]
    # write_all fails a write that never completed, so every record here has its completion time.
    latency = [
        statistics.median(r.completed - r.invoked for r in records if r.completed is not None) for records in rounds
    ]
    log(f"{WRITES} writes each: yours {per_write[0]:.0f} bytes per write beyond idle, median {latency[0] * 1000:.1f} "
        f"ms; the reference {per_write[1]:.0f} bytes, {latency[1] * 1000:.1f} ms")  # fmt: skip
    expect(
        per_write[0] <= WRITE_RATIO * per_write[1],
        f"writes of 100-byte values cost {per_write[0]:.0f} bytes each between the nodes, beyond their idle "
        f"traffic; the README allows {WRITE_RATIO} times the reference's {per_write[1]:.0f} in the same run",
        hint="send each follower the entries it lacks, not the whole log again (README, 'Efficiency')",
    )
    expect(
        latency[0] <= LATENCY_RATIO * latency[1],
        f"the median write took {latency[0] * 1000:.1f} ms from request to ok; the README allows {LATENCY_RATIO} "
        f"times the reference's {latency[1] * 1000:.1f} ms, measured between the same writes",
        hint=LATENCY_HINT,
    )
