"""Stage 5: range scans merged across the memtable and SSTables, tombstones honoured, bounds exact."""

import struct

from labkit.checks import expect, fail
from labkit.render import escape_bytes
from labkit.tools.kvproto import DELETE, ERROR, SET
from lsmwire import SCAN, describe_scan, scan
from model import Model, Op, random_value, run_ops

ALPHABET = b"abc"
SCAN_BODY = "a SCAN body is 1 + 2 + start_len + 2 + end_len bytes, each bound at most 1024 bytes: check before reading"


def prefix_rich_keys(rng, count):
    """Short keys over a tiny alphabet, so many keys are prefixes of others (a < a\\x00 < aa < ab < b)."""
    keys: set[bytes] = set()
    while len(keys) < count:
        keys.add(bytes(rng.choice(ALPHABET) for _ in range(rng.randint(1, 5))))
    keys.update((b"a", b"a\x00", b"a\x7f", b"a\x80", b"a\xff", b"\x80", b"\xff\xff"))  # unsigned order
    ordered = sorted(keys)  # a set's order changes with each process's hash seed: sort, then shuffle
    rng.shuffle(ordered)
    return ordered


def build(store, rng):
    """Data spread over SSTables and the memtable: sets, overwrites and deletes in seeded order."""
    model = Model()
    keys = prefix_rich_keys(rng, 160)
    ops = [Op(SET, key, random_value(rng, 40, 120)) for key in keys]
    for key in rng.sample(keys, 60):
        ops.append(Op(SET, key, random_value(rng, 40, 120)))
    ops += [Op(DELETE, key) for key in rng.sample(keys, 40)]
    ops += [Op(SET, key, random_value(rng, 10, 30)) for key in rng.sample(keys, 10)]
    run_ops(store.port, model, ops)
    return model


def ranges(rng, model):
    present = sorted(model.data)
    gone = sorted(model.touched - set(model.data))
    some = rng.sample(present, 6)
    chosen = [
        (b"", b""),
        (b"", present[len(present) // 2]),
        (present[len(present) // 3], b""),
        (b"a", b"a\x00"),
        (b"a", b"b"),
        (b"a\x00", b"ab"),
        (b"b", b"b"),
        (b"c", b"a"),
        (b"z", b""),
        (b"", b"a"),
    ]
    for low, high in zip(some[::2], some[1::2], strict=True):
        low, high = min(low, high), max(low, high)
        chosen += [(low, high), (low + b"\x00", high + b"\x00"), (low[:-1] or low, high)]
    chosen += [(key, key + b"\x00") for key in rng.sample(gone, min(3, len(gone)))]
    return chosen


def expect_scans(kv, model, chosen, after):
    for start, end in chosen:
        expected = sorted((k, v) for k, v in model.data.items() if start <= k and (not end or k < end))
        got = scan(kv, start, end)
        if got != expected:
            got_keys, want_keys = [k for k, _ in got], [k for k, _ in expected]
            extra = [k for k in got_keys if k not in set(want_keys)]
            missing = [k for k in want_keys if k not in set(got_keys)]
            fail(
                f"{after}, {describe_scan(start, end)} returns the wrong pairs",
                expected=f"{len(expected)} pairs: {_keys(want_keys)}",
                got=f"{len(got)} pairs: {_keys(got_keys)}; not expected: {_keys(extra)}; missing: {_keys(missing)}",
                hint=_hint(start, end, extra, missing, model),
            )


def _keys(keys):
    return ", ".join(escape_bytes(k, 12) for k in keys[:8]) + (" ..." if len(keys) > 8 else "") if keys else "none"


def _hint(start, end, extra, missing, model):
    if end in extra or start in missing:
        return "start is inclusive and end exclusive: start <= key < end, comparing keys as unsigned bytes"
    if any(key not in model.data for key in extra):
        return "a deleted key came back: merge every source first, newest first, then leave out tombstones"
    return "merge the memtable and every SSTable by key; on equal keys the newest source wins"


def check_scans_match_the_model(store, rng):
    """SCANs across memtable and SSTables with overwrites and deletes match the model, bounds exact"""
    kv = store.start()
    model = build(store, rng)
    expect_scans(kv, model, ranges(rng, model), "over data spread across SSTables and the memtable")


def check_scans_after_a_restart(store, rng):
    """The same SCANs hold after a SIGKILL and a restart"""
    store.start()
    model = build(store, rng)
    chosen = ranges(rng, model)
    store.kill()
    kv = store.start()
    expect_scans(kv, model, chosen, "after a SIGKILL and a restart")


def check_malformed_scans_get_error(store):
    """A SCAN whose lengths do not add up or whose bounds exceed 1024 bytes gets ERROR; 1024-byte bounds are served"""
    kv = store.start()
    for body, what in (
        (bytes([SCAN]) + struct.pack(">H", 1) + b"a" + struct.pack(">H", 1) + b"bc", "a SCAN with a byte too many"),
        (bytes([SCAN]) + struct.pack(">H", 1025) + b"a" * 1025 + struct.pack(">H", 0), "a SCAN with a 1025-byte start"),
        (bytes([SCAN]) + struct.pack(">H", 0) + struct.pack(">H", 1025) + b"z" * 1025, "a SCAN with a 1025-byte end"),
        (bytes([SCAN]) + struct.pack(">H", 10) + b"abcd", "a SCAN whose start_len runs past its body"),
        (bytes([SCAN]) + struct.pack(">H", 1) + b"a\x00", "a SCAN cut inside its end_len"),
        (bytes([SCAN]) + struct.pack(">H", 0), "a SCAN without end_len"),
    ):
        status, _ = kv.exchange(body, what, hint=SCAN_BODY)
        expect(status == ERROR, f"{what} must be answered ERROR, got status {status}", hint=SCAN_BODY)
    kv.set(b"k", b"v")
    expect(scan(kv, b"", b"") == [(b"k", b"v")], "after the malformed SCANs, a SCAN of everything is not k=v")
    widest = scan(kv, bytes(1024), b"\xff" * 1024)
    expect(
        widest == [(b"k", b"v")],
        f"a SCAN with a 1024-byte start and a 1024-byte end (the longest bounds) gave {len(widest)} pairs, not k=v",
        hint="start_len and end_len may each be 0 to 1024",
    )
