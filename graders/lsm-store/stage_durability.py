"""Stage 2: every acknowledged write survives SIGKILL at a seeded moment of a pipelined workload."""

from model import Model, Pipeline, compare_with_model, distinct_keys, overwrite_workload

ROUNDS = 3
WAL_ONLY = 1 << 20  # no flush: this stage is about the log alone


def check_a_write_acknowledged_just_before_the_kill_survives(open_store, rng):
    """A SET killed right after its reply is there after the restart"""
    store = open_store(memtable_bytes=WAL_ONLY)
    kv = store.start()
    model = Model()
    for n, key in enumerate(distinct_keys(rng, 5, "last"), start=1):
        value = rng.randbytes(rng.randint(20, 200))
        kv.set(key, value)
        model.data[key] = value
        model.touched.add(key)
        store.kill()
        kv = store.start()
        compare_with_model(kv, model, f"a SIGKILL right after reply {n}")


def check_acknowledged_writes_survive_sigkill(open_store, rng):
    """Three SIGKILLs with requests in flight: every acknowledged change survives, nothing else appears"""
    store = open_store(memtable_bytes=WAL_ONLY)
    store.start()
    model = Model()
    keys = distinct_keys(rng, 60, "d")
    for round_number in range(1, ROUNDS + 1):
        ops = overwrite_workload(rng, keys, rounds=4, delete_share=0.2)
        stop_after = rng.randrange(len(ops) // 3, len(ops) - 20)
        with Pipeline(store.port) as pipe:
            pipe.run(model, ops, stop_after=stop_after, kill=store.kill)
        kv = store.start()
        compare_with_model(kv, model, f"SIGKILL {round_number} of {ROUNDS} and a restart")
