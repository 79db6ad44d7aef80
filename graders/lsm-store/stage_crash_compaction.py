"""Stage 7: SIGKILL in the middle of flushes and compactions, at moments the grader picks by watching DATA_DIR."""

import functools
import signal

from labkit.checks import log
from model import Model, Pipeline, compare_with_model, distinct_keys, overwrite_workload
from watch import FolderWatch

KILLS = 4


def check_store_is_consistent_after_kills_during_compaction(store, rng):
    """Four SIGKILLs during flushes and compactions: the store starts and holds every acknowledged change"""
    store.start()
    model = Model()
    keys = distinct_keys(rng, 100, "x")
    for kill in range(1, KILLS + 1):
        target = rng.randint(4, 40)
        ops = overwrite_workload(rng, keys, rounds=6, delete_share=0.15)
        kill_now = functools.partial(store.process.send_signal, signal.SIGKILL)
        on_removal = kill % 2 == 0  # every other kill: as soon as a compaction removes a file it replaced
        watch = FolderWatch(store.folder, target, kill_now, on_removal=on_removal)
        with watch, Pipeline(store.port) as pipe:
            pipe.run(model, ops, killed_elsewhere=True)
        log(f"grader: kill {kill}: {watch.describe()}")
        store.kill()  # reaps it, or kills it now if the workload ended first
        kv = store.start()
        compare_with_model(kv, model, f"SIGKILL {kill} of {KILLS} during the workload and a restart")
        store.close()
