"""Stage 9: concurrent clients, on a healthy cluster and then under random partitions, kills and pauses from the
run's seed."""

import random
import threading
import time

from consistency import expect_linearizable
from helpers import leader_of, run_together
from labkit.checks import expect, log

FAULTS = 4
FAULT_S = 0.8
KEYS = 3


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


def check_history_is_linearizable_under_faults(cluster, kv, links, rng):
    """Three clients' operations stay linearizable while the grader partitions, kills and pauses nodes"""
    leader_of(kv, "three fresh nodes")
    schedule = [(rng.choice(("isolate", "kill", "pause")), rng.randrange(3)) for _ in range(FAULTS)]
    seeds = [rng.getrandbits(64) for _ in range(3)]
    done = threading.Event()

    def nemesis():
        try:
            for fault, node in schedule:
                log(f"nemesis: {fault} node {node}")
                {"isolate": links.isolate, "kill": cluster.kill, "pause": cluster.pause}[fault](node)
                time.sleep(FAULT_S)
                {"isolate": lambda _: links.heal(), "kill": cluster.restart, "pause": cluster.resume}[fault](node)
                time.sleep(FAULT_S / 2)
        finally:
            done.set()

    def workload(client, seed):
        choose = random.Random(seed)
        step = 0
        while not done.is_set():
            step += 1
            key, via, value = f"n{choose.randrange(KEYS)}", choose.randrange(3), f"c{client.number}-{step}"
            kind = choose.choice(("get", "put", "cas"))
            if kind == "get":
                client.get(key, via=via, within=3.0, wait=1.5)
            elif kind == "put":
                client.put(key, value, via=via, within=3.0, wait=1.5)
            else:
                client.cas(
                    key, f"c{choose.randrange(3)}-{step - choose.randrange(1, 4)}", value, via=via, within=3.0, wait=1.5
                )

    clients = [kv.client() for _ in seeds]
    run_together(nemesis, *(lambda c=c, s=s: workload(c, s) for c, s in zip(clients, seeds, strict=True)), within=70)
    links.heal()
    leader_of(kv, "after the nemesis stopped")
    final = kv.client()
    for n in range(KEYS):
        final.get(f"n{n}")
    counts = kv.history.counts()
    expect(
        counts["ok"] >= 15,
        f"only {counts['ok']} of {len(kv.history.records)} operations succeeded during and after the faults",
        hint="a majority side must keep serving within 5 s of each fault (README, 'Availability and timing')",
    )
    expect_linearizable(kv, "random partitions, kills and pauses")
