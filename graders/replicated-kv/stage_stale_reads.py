"""Stage 6: a node that was replaced as leader never answers a read with a value already overwritten."""

from consistency import expect_linearizable
from helpers import leader_of, run_together, values, write_all

STALE_HINT = (
    "a leader cut off from the majority may already be replaced: before answering a read, confirm with a "
    "majority that you still lead (a round of heartbeats, or the read as a log entry), or hold a lease that ends "
    "before the others may elect someone else (README, 'Reads')"
)


def _overwrite(kv, rng, cut_off, prefix):
    client = kv.client()
    old = values(rng, prefix, 4)
    write_all(client, old, "writes before the partition")
    return client, old


def _read_at_once(kv, keys, node):
    """Reads every key through ``node`` only, each on a connection of its own, all at once."""
    readers = [(kv.client(), key) for key in keys]
    run_together(*(lambda r=r, k=k: r.get(k, via=node, follow=False) for r, k in readers))


def check_deposed_leader_serves_no_stale_reads(cluster, kv, links, rng):
    """Reads through a leader cut off and replaced do not return the values it knew"""
    leader = leader_of(kv, "three fresh nodes")
    client, old = _overwrite(kv, rng, leader, "stale")
    links.isolate(leader)
    leader_of(kv, "the majority side, with the leader cut off", [n for n in range(3) if n != leader])
    write_all(client, {key: f"{value}-new" for key, value in old.items()}, "writes on the majority side")
    _read_at_once(kv, old, leader)
    links.heal()
    expect_linearizable(kv, "reads through the leader cut off from the majority", STALE_HINT)


def check_cut_off_follower_serves_no_stale_reads(cluster, kv, links, rng):
    """Reads through a follower cut off (connections reset) do not return overwritten values"""
    leader = leader_of(kv, "three fresh nodes")
    follower = (leader + 1) % 3
    client, old = _overwrite(kv, rng, follower, "follower")
    links.isolate(follower, "reset")
    write_all(client, {key: f"{value}-new" for key, value in old.items()}, "writes while a follower is cut off")
    _read_at_once(kv, old, follower)
    links.heal()
    expect_linearizable(kv, "reads through a follower cut off from the others", STALE_HINT)
