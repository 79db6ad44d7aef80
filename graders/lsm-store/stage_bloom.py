"""Stage 8: bloom filters keep GETs of absent keys out of the SSTables, as STATS files_read shows."""

from labkit.checks import fail, log
from labkit.tools.kvproto import SET
from lsmwire import stats
from model import Model, Op, filler, random_value, run_ops

ABSENT_GETS = 300
PRESENT_GETS = 20
RATE = 0.03  # three times the README's 1 % false-positive rate
SLACK = 2


def build(store, rng):
    """Keys k<even number> in SSTables; their odd neighbours are absent but inside every table's key range."""
    model = Model()
    numbers = rng.sample(range(0, 10**7, 2), 1200)
    ops = [Op(SET, b"b%07d" % n, random_value(rng, 10, 40)) for n in numbers]
    run_ops(store.port, model, ops)
    run_ops(store.port, model, filler(rng, "z", 2 * store.memtable_bytes))  # flushes the last of them
    return model, numbers


def check_absent_keys_read_almost_no_sstables(store, rng):
    """GETs of absent keys search few SSTables: the bloom filters rule them out"""
    kv = store.start()
    _, numbers = build(store, rng)
    tables = stats(kv).tables
    reads = 0
    for n in rng.sample(numbers, ABSENT_GETS):
        kv.get(b"b%07d" % (n + 1), None)
        reads += stats(kv).files_read
    bound = int(RATE * ABSENT_GETS * tables) + SLACK
    log(f"grader: {reads} SSTables searched by {ABSENT_GETS} GETs of absent keys, {tables} live SSTables")
    if reads > bound:
        fail(
            f"{ABSENT_GETS} GETs of absent keys searched {reads} SSTables in all ({tables} live SSTables)",
            expected=f"at most 3 % of {tables} tables per GET, plus {SLACK}: {bound}",
            got=f"{reads} ({reads / ABSENT_GETS:.2f} per GET)",
            hint="give every SSTable a bloom filter (about 10 bits per key, 7 hashes) and test it before searching",
        )


def check_present_keys_are_read_from_sstables(store, rng):
    """A GET of a key whose newest version is in an SSTable searches its table, and others only as often as their
    filters let the key through by mistake"""
    kv = store.start()
    model, numbers = build(store, rng)
    tables = stats(kv).tables
    reads = 0
    for n in rng.sample(numbers, PRESENT_GETS):
        key = b"b%07d" % n
        kv.get(key, model.data[key])
        report = stats(kv)
        if report.files_read < 1:
            fail(
                f"STATS files_read is {report.files_read} after a GET of a key that is in an SSTable",
                expected="at least 1: the key's table was searched",
                hint="files_read counts the SSTables the last GET searched after their filters let the key through",
            )
        reads += report.files_read
    bound = PRESENT_GETS + int(RATE * PRESENT_GETS * tables) + SLACK
    if reads > bound:
        fail(
            f"{PRESENT_GETS} GETs of keys each in one SSTable searched {reads} SSTables in all ({tables} live)",
            expected=f"one each, plus at most 3 % of {tables} tables per GET and {SLACK}: {bound}",
            got=f"{reads} ({reads / PRESENT_GETS:.2f} per GET)",
            hint="files_read counts each SSTable searched once: the key's own, and those whose filter failed to "
            "rule it out",
        )
