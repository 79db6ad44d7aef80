"""Stage 7: partitions: the minority side never acknowledges a write, the majority side keeps serving, and after
healing every node converges."""

import time

from consistency import expect_linearizable
from helpers import expect_all_read, leader_of, run_together, values, write_all
from labkit.checks import expect, fail, log

MINORITY_HINT = (
    "a leader cut off from the majority cannot commit: answer unknown (or unavailable when nothing was "
    "appended), never ok (README, 'Availability and timing')"
)
REPLACED_HINT = (
    "a leader that was replaced drops what it could not commit: answer the requests still waiting unknown, and "
    "answer a request only from its own entry (the entry applied at its index may be another leader's); where "
    "the new leader's entries conflict with yours (same index, other term), delete yours from there on and append "
    "the leader's, keeping those that match (README, 'Consistency')"
)
REPAIR_HINT = (
    "a node whose log diverged (it holds entries it appended as a leader but never committed) must be brought in "
    "line: when a follower rejects an append, go back and send earlier entries until the logs agree on an entry, "
    "then replace everything after it; the leader cannot commit with that node until then (README, "
    "'Availability and timing')"
)
UP_TO_DATE_HINT = (
    "vote only for a candidate whose log is at least as up to date as yours: compare the terms of the last entries "
    "first, and the lengths only when those terms are equal; a longer log whose last entry is older holds "
    "operations the cluster never committed and lacks ones it did (README, 'Durability')"
)
HEAL_AFTER_S = 0.3  # the cut-off leader has appended the requests, and is still within its 2 s to answer them
STAGGER_S = 0.05
CATCH_UP_S = 0.5  # the healed node receives its successor's log before that successor dies
UNKNOWN_HINT = (
    "when an operation was appended but its commit is not confirmed within 2 s it may still take effect: "
    "answer unknown, never a definite error such as unavailable (README, 'The client protocol')"
)


def _others(node):
    return [other for other in range(3) if other != node]


def check_minority_side_acknowledges_no_write(cluster, kv, links, rng):
    """A leader cut off from the others acknowledges no write; the majority serves; all converge after healing"""
    leader = leader_of(kv, "three fresh nodes")
    client = kv.client()
    write_all(client, values(rng, "before", 2), "writes before the partition")
    links.isolate(leader)
    log(f"cut off node {leader}, the leader")
    cut_off = [kv.client() for _ in range(3)]
    attempts = []
    run_together(
        *(
            lambda c=c, n=n: attempts.append(c.put(f"minority-{n}", f"m-{n}", via=leader, follow=False))
            for n, c in enumerate(cut_off)
        )
    )
    for record in sorted(attempts, key=lambda attempt: attempt.key):
        expect(
            record.outcome != "ok",
            f"the leader, cut off from both other nodes, acknowledged {record.describe()}",
            hint=MINORITY_HINT,
        )
        expect(
            not record.replies[-1].endswith("no answer"),
            f"the leader, cut off from the others, did not answer {record.describe()} within 5 s",
            hint="answer every request within 2 s: unknown when you cannot tell (README, 'Availability and timing')",
        )
    leader_of(kv, "the majority side, with the leader cut off", _others(leader))
    majority_pairs = values(rng, "majority", 4)
    write_all(client, majority_pairs, "writes on the majority side while the leader is cut off")
    links.heal()
    for node in range(3):
        expect_all_read(client, majority_pairs, f"after healing, a read starting at node {node}", via=node)
    expect_linearizable(kv, "a partition that cut off the leader", MINORITY_HINT)


def check_cut_off_follower_catches_up(cluster, kv, links, rng):
    """The cluster serves while a follower is cut off (connections reset), and the follower catches up"""
    leader = leader_of(kv, "three fresh nodes")
    follower, third = _others(leader)
    client = kv.client()
    links.isolate(follower, "reset")
    pairs = values(rng, "without-follower", 5)
    write_all(client, pairs, "writes while a follower is cut off")
    links.heal()
    cluster.kill(third)  # from now on every majority needs the follower
    leader_of(kv, "after healing, with the third node killed", [leader, follower])
    write_all(client, values(rng, "with-follower", 2), "writes through the leader and the healed follower")
    expect_all_read(client, pairs, "through the leader and the healed follower")


def check_unconfirmed_write_is_unknown(cluster, kv, links, rng):
    """A write whose confirmations are held up is answered unknown, not a definite error, if it took effect"""
    leader = leader_of(kv, "three fresh nodes")
    client = kv.client()
    write_all(client, {"held": "before"}, "a first write")
    links.silence((follower, other) for follower in _others(leader) for other in range(3) if other != follower)
    value = f"held-{rng.randrange(1000, 10_000)}"
    attempt = kv.client().put("held", value, via=leader, follow=False)
    links.heal()
    leader_of(kv, "after the followers' messages flow again")
    final = client.get("held")
    expect(final.outcome == "ok", "after healing, get held got no answer within 10 s", hint=UNKNOWN_HINT)
    if attempt.outcome == "fail" and final.output == value:
        fail(
            f"the leader answered a definite error to put held={value}, yet the write took effect",
            expected="unknown (the write might still commit) or ok",
            got=f"{attempt.replies[-1]}, then get held → {final.output}",
            hint=UNKNOWN_HINT,
        )
    expect_linearizable(kv, "a write whose followers' answers were held up", UNKNOWN_HINT)


def _replace_the_leader(kv, links, rng, mode="blackhole", writes=3):
    """Cuts the leader off and lets the others elect a successor, which swaps ``swapped`` from its first value and
    writes ``writes`` keys, filling the log positions the cut-off leader will use next. Returns the cut-off leader,
    the successor, the client that wrote, and the first value."""
    leader = leader_of(kv, "three fresh nodes")
    client = kv.client()
    first = f"v0-{rng.randrange(1000, 10_000)}"
    write_all(client, {"swapped": first}, "a write before the partition")
    links.isolate(leader, mode)
    log(f"cut off node {leader}, the leader ({mode})")
    successor = leader_of(kv, "the majority side, with the leader cut off", _others(leader))
    swapped = client.cas("swapped", first, f"v1-{rng.randrange(1000, 10_000)}")
    expect(swapped.outcome == "ok" and swapped.output is True, f"on the majority side: {swapped.describe()}")
    write_all(client, values(rng, "successor", writes), "writes on the majority side while the leader is cut off")
    return leader, successor, client, first


def _stale_cas(kv, leader, first):
    """A cas from the value the cut-off leader last knew: it appends it, and it must never take effect."""
    return kv.client().cas("swapped", first, "stale", via=leader, follow=False)


def _puts_to(kv, node, pairs):
    """One request per pair, each to be sent to ``node`` alone on a connection of its own."""
    return [lambda k=k, v=v: kv.client().put(k, v, via=node, follow=False) for k, v in pairs.items()]


def check_replaced_leader_drops_what_it_could_not_commit(cluster, kv, links, rng):
    """A leader cut off and replaced, healed while its requests wait, answers none with another's result and keeps
    none of them in place of its successor's operations"""
    leader, successor, client, first = _replace_the_leader(kv, links, rng)
    waiting = [lambda: _stale_cas(kv, leader, first), *_puts_to(kv, leader, values(rng, "waiting", 2))]
    keys = ["swapped"]

    def send_after(delay, request):
        time.sleep(delay)  # one after another: the cas goes first, to the cut-off leader's first free index
        keys.append(request().key)

    def heal_soon():
        time.sleep(HEAL_AFTER_S)
        links.heal()
        log(f"healed {HEAL_AFTER_S} s after the first request to node {leader}")

    run_together(heal_soon, *(lambda n=n, r=r: send_after(n * STAGGER_S, r) for n, r in enumerate(waiting)))
    time.sleep(CATCH_UP_S)
    cluster.kill(successor)
    survivors = _others(successor)
    log(f"killed node {successor}, the successor: nodes {survivors[0]} and {survivors[1]} remain")
    leader_of(kv, "after the successor was killed", survivors)
    for key in keys:
        client.get(key)
    expect_linearizable(kv, "requests to a replaced leader, then its successor killed", REPLACED_HINT)


def _kill_successor_then_heal(cluster, kv, links, replaced, client, hint):
    """Kills the successor and heals the replaced leader, which must now form the majority with the third node;
    then reads ``swapped`` and judges the check's history."""
    leader, successor = replaced
    cluster.kill(successor)
    links.heal()
    third = next(node for node in _others(leader) if node != successor)
    log(f"killed node {successor}, the successor, and healed node {leader}: it and node {third} remain")
    leader_of(kv, f"with node {leader} healed and node {successor} killed", [leader, third], hint=hint)
    client.get("swapped")
    expect_linearizable(kv, "a replaced leader healed after its successor was killed", hint)


def check_diverged_log_is_repaired(cluster, kv, links, rng):
    """A replaced leader's log, diverged while it was cut off, is repaired: the third node leads with it alone"""
    # Reset, not held: the successor's messages to the cut-off leader, held and delivered on healing, would repair
    # its log before the successor dies.
    leader, successor, client, first = _replace_the_leader(kv, links, rng, "reset")
    stale = _stale_cas(kv, leader, first)
    log(f"node {leader}, still cut off, answered {stale.describe()}")
    _kill_successor_then_heal(cluster, kv, links, (leader, successor), client, REPAIR_HINT)


def check_longer_stale_log_loses_the_election(cluster, kv, links, rng):
    """A replaced leader whose log grew longer than the others' with operations it never committed does not win the
    next election against the node that holds the successor's committed cas"""
    leader, successor, client, first = _replace_the_leader(kv, links, rng, "reset", writes=0)
    stale = [lambda: _stale_cas(kv, leader, first), *_puts_to(kv, leader, values(rng, "stale", 5))]
    run_together(*stale)
    log(f"node {leader}, still cut off, was sent {len(stale)} requests at once; its log is now the longest")
    _kill_successor_then_heal(cluster, kv, links, (leader, successor), client, UP_TO_DATE_HINT)
