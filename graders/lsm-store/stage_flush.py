"""Stage 4: full memtables become SSTables; the newest version of a key wins across memtable and SSTables."""

from labkit.checks import fail
from labkit.tools.kvproto import DELETE, SET
from labkit.wait import until
from lsmwire import stats
from model import Model, Op, compare_with_model, distinct_keys, filler, random_value, run_ops

SETTLE_S = 5.0  # README.md promises a second; a loaded machine gets more
VERSIONS = 5  # versions of each key, each followed by a flush: some end up in SSTables side by side


def wal_bytes(store):
    folder = store.folder / "wal"
    return sum(path.stat().st_size for path in folder.glob("*.wal")) if folder.is_dir() else 0


def check_full_memtables_become_sstables(store, rng):
    """About 40 memtables' worth of writes end up in SSTables, and the WAL stays small"""
    kv = store.start()
    model = Model()
    run_ops(store.port, model, filler(rng, "f", 40 * store.memtable_bytes))
    wal_limit = 4 * store.memtable_bytes + 65536
    settled = until(lambda: stats(kv).tables >= 1 and wal_bytes(store) <= wal_limit, SETTLE_S, interval=0.1)
    if not settled:
        fail(
            f"after writes of 40 times MEMTABLE_BYTES ({store.memtable_bytes}), the store has not flushed",
            expected=f"STATS levels summing to 1 or more, and at most {wal_limit} bytes in DATA_DIR/wal/",
            got=f"levels {list(stats(kv).levels)}, {wal_bytes(store)} bytes of WAL files",
            hint="flush when the memtable's key and value bytes exceed MEMTABLE_BYTES, then delete its WAL files",
        )
    compare_with_model(kv, model, "40 memtables' worth of writes", full_scan=False)


def check_newest_version_wins(store, rng):
    """Keys overwritten and deleted while older versions sit in SSTables show their newest state"""
    kv = store.start()
    model = Model()
    keys = distinct_keys(rng, 8, "n")
    limit = store.memtable_bytes

    def write_and_flush(ops, tag, after):
        """``ops``, then about one memtable of other keys: one flush, so versions sit in different SSTables."""
        run_ops(store.port, model, ops)
        run_ops(store.port, model, filler(rng, tag, limit))
        compare_with_model(kv, model, after, full_scan=False)

    for version in range(1, VERSIONS + 1):
        ops = [Op(SET, key, random_value(rng)) for key in keys]
        write_and_flush(ops, f"v{version}", f"version {version} of each key, then a flush")
    run_ops(store.port, model, [Op(SET, key, random_value(rng)) for key in keys])
    compare_with_model(kv, model, "one more version of each key, still in the memtable", full_scan=False)
    deletes = [Op(DELETE, key) for key in keys[:4]]
    write_and_flush(deletes, "d", "deletes of keys whose older versions are in SSTables")
    run_ops(store.port, model, [Op(SET, keys[0], random_value(rng)), Op(DELETE, keys[5])])
    compare_with_model(kv, model, "a key set again after its delete, and a delete in the memtable", full_scan=False)
    store.kill()
    kv = store.start()
    compare_with_model(kv, model, "a SIGKILL and a restart", full_scan=False)
