"""Stage 2: three nodes, one leader: a write acknowledged by the leader is visible through every node."""

import time

from helpers import FAILOVER_WAIT_S, expect_all_read, leader_of, values, write_all
from kvclient import Client
from labkit.checks import expect_equal

FOLLOWER_READ_HINT = (
    "a follower's copy may lag behind the leader's: a node that is not the leader answers not_leader, also to a "
    "get (README, 'Consistency')"
)
REDIRECT_HINT = "a node that is not the leader answers not_leader with the leader's id once it knows it (README)"


def check_followers_name_the_leader(cluster, kv):
    """The nodes that are not the leader answer not_leader and name the leader, to a put, a get and a cas"""
    leader = leader_of(kv, "three fresh nodes")
    write_all(kv.client(), {"named": "leader-known"}, "a first write")
    probe = kv.client()
    requests = {
        "put": {"op": "put", "key": "named", "value": "x"},
        "get": {"op": "get", "key": "named"},
        "cas": {"op": "cas", "key": "named", "from": "leader-known", "to": "y"},
    }
    # A follower names the leader once it has heard from it; a write acknowledged by a majority may not have
    # reached the third node yet, so a null leader is asked about again until the bound.
    heard_by = time.monotonic() + FAILOVER_WAIT_S
    for node in range(3):
        if node == leader:
            continue
        until_it_names_a_leader(probe, node, heard_by)
        for kind, request in requests.items():
            reply = probe.ask(node, {"rid": probe.next_rid(), **request})
            got = None if reply is None else (reply.get("error"), reply.get("leader"))
            situation = f"node {node}'s answer to a {kind} (error, leader)"
            expect_equal(got, ("not_leader", leader), situation, hint=REDIRECT_HINT)


def check_acknowledged_writes_are_read_through_every_node(cluster, kv, rng):
    """A write acknowledged by the leader is read back at once through every node, the followers first"""
    leader = leader_of(kv, "three fresh nodes")
    followers_first = [node for node in range(3) if node != leader] + [leader]
    client = kv.client()
    for key, value in values(rng, "seen", 8).items():
        write_all(client, {key: value}, "writes to a healthy cluster")
        for node in followers_first:
            role = "the leader" if node == leader else "a follower"
            situation = f"a read starting at {role}, right after the write"
            expect_all_read(client, {key: value}, situation, via=node, hint=FOLLOWER_READ_HINT)


def until_it_names_a_leader(probe: Client, node: int, deadline: float) -> None:
    """Ask ``node`` with gets while it answers not_leader naming no leader, until ``deadline``."""
    while time.monotonic() < deadline:
        reply = probe.ask(node, {"rid": probe.next_rid(), "op": "get", "key": "named"})
        if reply is None or reply.get("error") != "not_leader" or reply.get("leader") is not None:
            return
        time.sleep(0.05)
