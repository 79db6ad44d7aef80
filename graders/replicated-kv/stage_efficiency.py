"""Stage 3: the links stay quiet and writes are quick, as ratios to the reference solution run beside the learner's
cluster in the same check (the reference fixture): a loaded machine slows both alike."""

import json
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
POLL_S = 0.1
POLL_WAIT_S = 1.0
STABLE_HINT = (
    "send heartbeats even when there is nothing to replicate, more often than the shortest election timeout: a "
    "follower that hears from its leader never starts an election (README, 'Availability and timing')"
)
STORM_HINT = "heartbeats every 50 to 200 ms are plenty; never send in a loop that does not wait (README, 'Efficiency')"
LATENCY_HINT = (
    "send a client's write to the followers at once and answer as soon as a majority stored it; waiting for the "
    "next heartbeat costs every write a heartbeat interval (README, 'Efficiency')"
)


def _ready(kv, name):
    leader = leader_of(kv, f"three fresh nodes ({name})")
    write_all(kv.client(), {"warm-up": "done"}, f"a first write ({name})")
    return leader


def _idle(pairs, window, watch=time.sleep):
    """Bytes and new connections over each cluster's links during the same ``window`` seconds of no requests, and
    what ``watch``, run through the window, returned."""
    before = [(links.bytes_moved(), links.connections()) for links in pairs]
    watched = watch(window)
    moved = [(links.bytes_moved() - b, links.connections() - c) for links, (b, c) in zip(pairs, before, strict=True)]
    return moved, watched


def _leadership_changes(sides, window):
    """Asks each cluster's followers every POLL_S, for ``window`` seconds, which node leads (a request to a follower
    is answered at once and moves nothing between nodes): per cluster, the answers other than not_leader naming
    the leader found before, each with its time. A reply that does not come within POLL_WAIT_S proves nothing (a
    loaded machine may stall), so it is not counted."""
    clients = [kv.client() for kv, _ in sides]
    changes: list[list[str]] = [[] for _ in sides]
    began = time.monotonic()
    while time.monotonic() - began < window:
        for (kv, leader), client, seen in zip(sides, clients, changes, strict=True):
            for node in (n for n in range(len(kv.cluster.nodes)) if n != leader):
                reply = client.ask(node, {"rid": client.next_rid(), "op": "get", "key": "idle-probe"}, POLL_WAIT_S)
                if reply is not None and (reply.get("error") != "not_leader" or reply.get("leader") != leader):
                    seen.append(f"at {time.monotonic() - began:.1f} s node {node} {_meaning(reply)}")
        time.sleep(POLL_S)
    return changes


def _meaning(reply):
    if reply.get("error") == "not_leader":
        return f"answered not_leader naming {json.dumps(reply.get('leader'))}"
    return f"served a get itself ({json.dumps(reply)[:120]})"


def check_idle_cluster_is_quiet(cluster, kv, links, reference, reference_links):
    """An idle cluster keeps its leader and moves at most 8 times the reference's bytes, on the connections it has"""
    sides = (kv, _ready(kv, "yours")), (reference, _ready(reference, "the reference"))
    time.sleep(SETTLE_S)
    moved, (changes, reference_changes) = _idle(
        (links, reference_links), IDLE_WINDOW_S, lambda window: _leadership_changes(sides, window)
    )
    (sent, opened), (yardstick, _) = moved
    if changes and reference_changes:
        log(f"both clusters changed leader in the idle second (a loaded machine): yours {changes[0]}; the "
            f"reference {reference_changes[0]}")  # fmt: skip
    expect(
        not changes or bool(reference_changes),
        f"an idle, healthy cluster did not keep its leader: node {sides[0][1]} led, and "
        f"{changes[0] if changes else ''}; the reference kept its leader through the same second",
        hint=STABLE_HINT,
    )
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
    idle = [sent / window for sent, _ in _idle((links, reference_links), window)[0]]
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
