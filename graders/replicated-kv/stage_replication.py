"""Stage 2: three nodes, one leader: a write acknowledged by the leader is visible through every node."""

from consistency import expect_linearizable
from helpers import expect_all_read, leader_of, run_together, values, write_all
from labkit.checks import expect_equal

REDIRECT_HINT = "a node that is not the leader answers not_leader with the leader's id once it knows it (README)"


def check_followers_name_the_leader(cluster, kv):
    """The nodes that are not the leader answer not_leader and name the leader"""
    leader = leader_of(kv, "three fresh nodes")
    write_all(kv.client(), {"named": "leader-known"}, "a first write")
    probe = kv.client()
    for node in range(3):
        if node == leader:
            continue
        reply = probe.ask(node, {"rid": probe.next_rid(), "op": "put", "key": "redirected", "value": "x"})
        got = None if reply is None else (reply.get("error"), reply.get("leader"))
        expect_equal(got, ("not_leader", leader), f"node {node}'s answer to a put (error, leader)", hint=REDIRECT_HINT)


def check_acknowledged_writes_are_read_through_every_node(cluster, kv, rng):
    """A write acknowledged by the leader is read back at once through every node"""
    leader_of(kv, "three fresh nodes")
    client = kv.client()
    for round_number in range(4):
        pairs = values(rng, f"seen-{round_number}", 3)
        write_all(client, pairs, "writes to a healthy cluster")
        for node in range(3):
            expect_all_read(client, pairs, f"a read starting at node {node}", via=node)


def check_concurrent_clients_see_one_order(cluster, kv, rng):
    """Three clients writing and reading the same keys through different nodes see one order"""
    leader_of(kv, "three fresh nodes")
    clients = [kv.client() for _ in range(3)]
    plans = [[(rng.choice("gpc"), f"shared-{rng.randrange(3)}", rng.randrange(3)) for _ in range(12)] for _ in clients]

    def run(client, plan):
        for step, (kind, key, via) in enumerate(plan):
            value = f"c{client.number}-{step}"
            if kind == "g":
                client.get(key, via=via)
            elif kind == "p":
                client.put(key, value, via=via)
            else:
                client.cas(key, f"c{(client.number + 1) % 3}-{step - 1}", value, via=via)

    run_together(*(lambda c=c, p=p: run(c, p) for c, p in zip(clients, plans, strict=True)))
    expect_linearizable(kv, "three concurrent clients on a healthy cluster")
