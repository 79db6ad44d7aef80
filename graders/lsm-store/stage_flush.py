"""Stage 4: full memtables become SSTables; the newest version of a key wins across memtable and SSTables."""

import time

from labkit.checks import fail
from labkit.tools.kvproto import DELETE, SET, request
from labkit.wait import until
from lsmwire import stats
from model import Model, Op, compare_with_model, distinct_keys, filler, random_value, run_ops

SETTLE_S = 5.0  # README.md promises a second; a loaded machine gets more
VERSIONS = 5  # versions of each key, each followed by a flush: some end up in SSTables side by side
ENTRY_BYTES = 256  # a key and its value, in the check that fills the memtable to its limit exactly
QUIET_S = 1.2  # past README's second for a background flush


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


def check_the_memtable_flushes_only_past_its_limit(store, rng):
    """A memtable of exactly MEMTABLE_BYTES (its keys overwritten and deleted too) stays in memory and in the WAL,
    also over a restart; one byte more flushes it; after that flush, the same holds again"""
    kv = store.start()
    model = Model()
    limit = store.memtable_bytes
    logged, tables = fill_to_the_limit(store, kv, rng, model, "b")
    expect_not_flushed(store, kv, tables, f"SETs, overwrites and a DELETE leaving {limit} bytes", logged=logged)
    store.kill()
    kv = store.start()
    expect_not_flushed(store, kv, tables, f"a restart with {limit} bytes of keys and values in the WAL")
    run_ops(store.port, model, [Op(SET, b"+", b"")])
    expect_flushed(store, f"a 1-byte key that took the memtable to {limit + 1} bytes")
    logged, tables = fill_to_the_limit(store, kv, rng, model, "c")  # the size starts again from 0 after a flush
    expect_not_flushed(store, kv, tables, f"a flush, then {limit} bytes of keys and values", logged=logged)
    run_ops(store.port, model, [Op(SET, b"-", b"")])
    expect_flushed(store, f"a flush, then writes that took the memtable to {limit + 1} bytes")
    compare_with_model(kv, model, "the flushes of memtables one byte over their limit", full_scan=False)


def fill_to_the_limit(store, kv, rng, model, prefix):
    """Fills an empty memtable to exactly MEMTABLE_BYTES with SETs, overwrites and a DELETE; returns the bytes of
    their WAL records and the number of SSTables."""
    limit = store.memtable_bytes
    keys = distinct_keys(rng, limit // ENTRY_BYTES, prefix)  # every key as long as the first
    width = ENTRY_BYTES - len(keys[0])
    fill = [Op(SET, key, rng.randbytes(width)) for key in keys]
    fill[-1] = Op(SET, keys[-1], rng.randbytes(width + limit - ENTRY_BYTES * len(keys)))  # exactly the limit
    churn = [Op(SET, key, rng.randbytes(width)) for key in keys[:-1] for _ in range(3)]
    churn += [Op(DELETE, keys[0]), Op(SET, keys[0], rng.randbytes(width))]  # a tombstone, then a value again
    run_ops(store.port, model, [*fill, *churn])
    logged = sum(8 + len(request(op.op, op.key, op.value)) - 4 for op in [*fill, *churn])  # header and body
    return logged, stats(kv).tables


def expect_flushed(store, what):
    """The WAL files that held a memtable over the limit are deleted once it is flushed."""
    limit = store.memtable_bytes
    if not until(lambda: wal_bytes(store) < limit, SETTLE_S, interval=0.1):
        fail(
            f"after {what}, over MEMTABLE_BYTES, the memtable was not flushed",
            expected=f"its WAL files deleted: less than {limit} bytes in DATA_DIR/wal/",
            got=f"{wal_bytes(store)} bytes of WAL files",
            hint="flush when a SET or DELETE makes the memtable's size larger than MEMTABLE_BYTES, then delete the "
            "WAL files it held",
        )


def expect_not_flushed(store, kv, tables, what, *, logged=None):
    """No SSTable was added since there were ``tables``; with ``logged``, every record logged since the last flush is
    still in the WAL too (a restart may rewrite the WAL, so only the tables are compared after one)."""
    time.sleep(QUIET_S)  # a flush may run in the background: give a wrong one the time to show
    now, on_disk = stats(kv).tables, wal_bytes(store)
    if now > tables or (logged is not None and on_disk < logged):
        fail(
            f"after {what}, exactly MEMTABLE_BYTES, the memtable was flushed",
            expected=f"{tables} SSTables as before"
            + (f", and the {logged} bytes of its records in the WAL" if logged else ""),
            got=f"{now} SSTables, {on_disk} bytes of WAL files",
            hint="the size is the sum over the memtable's entries (one per key, its newest value or a tombstone) of "
            "the key's and the value's length; flush only when it is larger than MEMTABLE_BYTES",
        )
