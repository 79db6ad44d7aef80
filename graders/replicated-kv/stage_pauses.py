"""Stage 8: a leader paused (SIGSTOP) longer than any lease wakes up without acting as a second leader."""

import time

from consistency import expect_linearizable
from helpers import expect_all_read, leader_of, run_together, values, write_all

SPLIT_BRAIN_HINT = (
    "a process can be paused between any two instructions: after SIGCONT, read the clock again before trusting "
    "a lease, and step down when a peer shows a newer term (README, 'Pauses')"
)


def check_paused_leader_wakes_without_split_brain(cluster, kv, links, rng):
    """Reads queued at a leader paused while cut off, answered when it wakes, see its successor's writes"""
    leader = leader_of(kv, "three fresh nodes")
    client = kv.client()
    old = values(rng, "paused", 3)
    write_all(client, old, "writes before the pause")
    queued = [key for key in old for _ in range(2)]  # two reads of each key, each on its own connection
    waiting = [kv.client() for _ in queued]
    for reader in waiting:
        reader.get("paused-0", via=leader, follow=False)  # each holds an open connection to the leader
    # Cut off first, so that no message of its successor reaches it before it answers what waited.
    links.isolate(leader)
    cluster.pause(leader)
    leader_of(kv, "while the leader is paused and cut off", [n for n in range(3) if n != leader])
    new = {key: f"{value}-new" for key, value in old.items()}
    write_all(client, new, "writes while the leader is paused")

    def wake_up():
        time.sleep(0.5)  # the reads below are queued at the paused node by now
        cluster.resume(leader)

    run_together(
        wake_up, *(lambda r=r, k=k: r.get(k, via=leader, follow=False) for r, k in zip(waiting, queued, strict=True))
    )
    links.heal()
    kv.client().put("after-wake", f"w-{rng.randrange(100, 1000)}", via=leader, follow=False)
    expect_all_read(client, new, "after the paused leader woke up", hint=SPLIT_BRAIN_HINT)
    client.get("after-wake")
    expect_linearizable(kv, "the leader paused and woken", SPLIT_BRAIN_HINT)
