"""Stage 3: the links stay quiet: bounded traffic while idle, and per write."""

import time

from helpers import leader_of, values, write_all
from labkit.checks import expect, log

IDLE_BYTES_PER_S = 32 * 1024  # README: all links together, while no client asks anything
BYTES_PER_WRITE = 4 * 1024  # README: on average, beyond the idle allowance, for values of 100 bytes or less
MAX_IDLE_CONNECTIONS = 6  # README: a node keeps its connections to its peers; no new one per message
IDLE_WINDOW_S = 1.5
STORM_HINT = "heartbeats every 50 to 200 ms are plenty; never send in a loop that does not wait (README, 'Efficiency')"


def check_idle_cluster_is_quiet(cluster, kv, links):
    """An idle cluster sends at most 32 KiB per second over all its links, on the connections it has"""
    leader_of(kv, "three fresh nodes")
    write_all(kv.client(), {"warm-up": "done"}, "a first write")
    time.sleep(0.5)  # connections settle after the election
    bytes_before, connections_before = links.bytes_moved(), links.connections()
    started = time.monotonic()
    time.sleep(IDLE_WINDOW_S)
    elapsed = time.monotonic() - started
    sent, opened = links.bytes_moved() - bytes_before, links.connections() - connections_before
    log(f"idle for {elapsed:.2f} s: {sent} bytes and {opened} new connections over the six links")
    expect(
        sent <= IDLE_BYTES_PER_S * elapsed,
        f"an idle cluster moved {sent} bytes in {elapsed:.1f} s; the README allows {IDLE_BYTES_PER_S} per second",
        hint=STORM_HINT,
    )
    expect(
        opened <= MAX_IDLE_CONNECTIONS,
        f"an idle cluster opened {opened} new connections between its nodes in {elapsed:.1f} s; the README "
        f"allows {MAX_IDLE_CONNECTIONS}",
        hint="keep one connection per peer open and reuse it; reconnect only when it breaks",
    )


def check_write_costs_are_bounded(cluster, kv, links, rng):
    """Sixty writes cost at most 4 KiB of node-to-node traffic each, beyond the idle allowance"""
    leader_of(kv, "three fresh nodes")
    client = kv.client()
    pairs = {key: value.ljust(100, "x")[:100] for key, value in values(rng, "costly", 60).items()}
    bytes_before, started = links.bytes_moved(), time.monotonic()
    write_all(client, pairs, "sixty writes in a row")
    elapsed = time.monotonic() - started
    sent = links.bytes_moved() - bytes_before
    allowed = len(pairs) * BYTES_PER_WRITE + IDLE_BYTES_PER_S * elapsed
    log(f"{len(pairs)} writes in {elapsed:.2f} s moved {sent} bytes between nodes ({sent // len(pairs)} per write)")
    expect(
        sent <= allowed,
        f"{len(pairs)} writes of 100-byte values moved {sent} bytes between the nodes in {elapsed:.1f} s; the "
        f"README allows {BYTES_PER_WRITE} per write plus {IDLE_BYTES_PER_S} per second, {int(allowed)} here",
        hint="send each follower the entries it lacks, not the whole log again (README, 'Efficiency')",
    )
