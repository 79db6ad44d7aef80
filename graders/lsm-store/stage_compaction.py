"""Stage 6: compaction keeps space amplification bounded, and deleted keys stay deleted."""

from labkit.checks import fail, log
from labkit.tools.kvproto import DELETE
from labkit.wait import until
from lsmwire import stats
from model import Model, Op, compare_with_model, distinct_keys, filler, overwrite_workload, run_ops

SETTLE_S = 10.0


def space_bound(store, model):
    return 3 * model.live_bytes() + 8 * store.memtable_bytes + 65536


def expect_space_bounded(store, kv, model, after):
    bound = space_bound(store, model)
    if until(lambda: store.bytes_on_disk() <= bound, SETTLE_S, interval=0.2) is None:
        report = stats(kv)
        fail(
            f"{after}, DATA_DIR still holds {store.bytes_on_disk()} bytes {SETTLE_S:g} s later",
            expected=f"at most 3 x {model.live_bytes()} live bytes + 8 x {store.memtable_bytes} + 65536 = {bound}",
            got=f"{store.bytes_on_disk()} bytes; STATS levels {list(report.levels)}",
            hint="compaction must merge SSTables until overwritten values and deleted keys stop taking space",
        )
    log(f"grader: {store.bytes_on_disk()} bytes on disk for {model.live_bytes()} live bytes (bound {bound})")


def check_deleted_keys_stay_deleted(store, rng):
    """Keys deleted over older versions deep in the store stay deleted through compactions and a restart"""
    kv = store.start()
    model = Model()
    keys = distinct_keys(rng, 120, "t")
    run_ops(store.port, model, overwrite_workload(rng, keys, rounds=2, delete_share=0.0))
    run_ops(store.port, model, filler(rng, "g", 6 * store.memtable_bytes))
    run_ops(store.port, model, [Op(DELETE, key) for key in keys[::2]])
    run_ops(store.port, model, filler(rng, "h", 6 * store.memtable_bytes))
    compare_with_model(kv, model, "deletes followed by writes that trigger compactions")
    store.kill()
    kv = store.start()
    compare_with_model(kv, model, "a SIGKILL and a restart")
    run_ops(store.port, model, filler(rng, "i", 6 * store.memtable_bytes))
    compare_with_model(kv, model, "more writes after the restart")


def check_space_amplification_is_bounded(store, rng):
    """After eight overwrites of every key and deletes of two thirds, the store shrinks within the bound"""
    kv = store.start()
    model = Model()
    keys = distinct_keys(rng, 240, "c")
    run_ops(store.port, model, overwrite_workload(rng, keys, rounds=8, delete_share=0.0))
    run_ops(store.port, model, [Op(DELETE, key) for key in keys if rng.random() < 2 / 3])
    expect_space_bounded(store, kv, model, "after the overwrites and deletes")
    compare_with_model(kv, model, "compaction")


def check_stats_bytes_on_disk_matches_the_folder(store, rng):
    """STATS bytes_on_disk is the size of the files in DATA_DIR"""
    kv = store.start()
    model = Model()
    run_ops(store.port, model, filler(rng, "s", 6 * store.memtable_bytes))

    def agrees():
        before = store.bytes_on_disk()
        reported = stats(kv).bytes_on_disk
        after = store.bytes_on_disk()
        return (before, reported) if before == after == reported else None

    if until(agrees, SETTLE_S, interval=0.2) is None:
        fail(
            "STATS bytes_on_disk never matched the size of the files in DATA_DIR",
            expected=f"{store.bytes_on_disk()} bytes (the regular files under DATA_DIR, subfolders included)",
            got=f"{stats(kv).bytes_on_disk}",
            hint="sum the sizes of every regular file under DATA_DIR when you answer STATS",
        )
