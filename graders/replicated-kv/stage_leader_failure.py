"""Stage 4: the leader dies: the others elect a new one within 5 s, and no acknowledged write is lost."""

from helpers import expect_all_read, leader_of, values, write_all


def check_service_resumes_when_the_leader_dies(cluster, kv, rng):
    """Killed right after acknowledging writes, the leader is replaced and the writes survive"""
    leader = leader_of(kv, "three fresh nodes")
    client = kv.client()
    pairs = values(rng, "before-crash", 12)
    write_all(client, pairs, "writes before the leader dies")
    cluster.kill(leader)
    survivors = [node for node in range(3) if node != leader]
    leader_of(kv, f"after node {leader} (the leader) was killed", among=survivors)
    expect_all_read(client, pairs, f"after node {leader} (the leader) was killed")
    write_all(client, values(rng, "after-crash", 3), f"writes after node {leader} was killed")


def check_leaders_fail_one_after_another(cluster, kv, rng):
    """Two leaders killed in turn (each restarted): every time a new leader serves, and nothing is lost"""
    client = kv.client()
    written = {}
    for round_number in range(2):
        leader = leader_of(kv, f"round {round_number + 1}")
        pairs = values(rng, f"round-{round_number}", 4)
        write_all(client, pairs, f"writes in round {round_number + 1}")
        written.update(pairs)
        cluster.kill(leader)
        leader_of(kv, f"round {round_number + 1}, after node {leader} was killed", [n for n in range(3) if n != leader])
        cluster.restart(leader)
    expect_all_read(client, written, "after two leaders were killed in turn")
