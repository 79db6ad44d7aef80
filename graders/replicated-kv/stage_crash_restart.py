"""Stage 5: nodes crash and restart on their data folders: writes persist, and a restarted node catches up."""

from helpers import expect_all_read, leader_of, run_together, values, write_all
from labkit.checks import log

PERSIST_HINT = (
    "write each entry (and term and vote) to DATA_DIR before acknowledging it or answering a peer: a SIGKILL "
    "loses what is only in memory (README, 'Durability')"
)
CATCH_UP_HINT = (
    "a node that was down must receive every entry it missed: when a follower rejects an append, send it "
    "earlier entries until its log matches (README, 'Availability and timing')"
)


def check_writes_survive_a_full_restart(cluster, kv, rng):
    """Every node killed right after the writes and restarted: every acknowledged write is there"""
    leader_of(kv, "three fresh nodes")
    client = kv.client()
    pairs = values(rng, "durable", 12)
    write_all(client, pairs, "writes before every node is killed")
    for node in range(3):
        cluster.kill(node)
    run_together(*(lambda n=n: cluster.restart(n) for n in range(3)))  # all at once: none waits for another
    leader_of(kv, "after every node was killed and restarted")
    expect_all_read(client, pairs, "after every node was killed and restarted", hint=PERSIST_HINT)


def check_a_restarted_node_catches_up(cluster, kv, rng):
    """A node that missed writes while down holds them once it is needed for the majority"""
    leader = leader_of(kv, "three fresh nodes")
    late, other = [node for node in range(3) if node != leader]
    log(f"leader: node {leader}; restarted follower: node {late}; the other: node {other}")
    client = kv.client()
    first = values(rng, "all-three", 3)
    write_all(client, first, "writes to all three nodes")
    cluster.kill(late)
    missed = values(rng, "missed", 6)
    write_all(client, missed, "writes while a follower is down")
    cluster.restart(late)
    cluster.kill(other)  # from now on every majority needs node `late`
    leader_of(kv, "with the restarted follower and the leader running, the third node killed", [leader, late])
    later = values(rng, "later", 3)
    write_all(client, later, "writes through the leader and the restarted follower", hint=CATCH_UP_HINT)
    cluster.kill(leader)
    cluster.restart(other)  # only `late` holds `later`; it holds `missed` only if it caught up
    leader_of(kv, "with only the restarted follower and the node killed after it running", [late, other])
    everything = {**first, **missed, **later}
    expect_all_read(
        client, everything, "through the restarted follower and the node killed after it", hint=CATCH_UP_HINT
    )
