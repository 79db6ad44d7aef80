"""Stage 7: partitions: the minority side never acknowledges a write, the majority side keeps serving, and after
healing every node converges."""

from consistency import expect_linearizable
from helpers import expect_all_read, leader_of, run_together, values, write_all
from labkit.checks import expect, fail, log

MINORITY_HINT = (
    "a leader cut off from the majority cannot commit: answer unknown (or unavailable when nothing was "
    "appended), never ok (README, 'Availability and timing')"
)
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
