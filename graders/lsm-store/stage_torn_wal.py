"""Stage 3: a torn WAL tail (cut or garbled while the engine is down) is dropped, reported and cut off."""

import re

from labkit.checks import expect_equal, fail, log
from labkit.render import escape_bytes
from labkit.tools.kvproto import DELETE, ERROR, NOT_FOUND, SET, request
from lsmwire import MAX_VALUE, newest_wal, wal_records
from model import Model, compare_with_model, distinct_keys, random_value

NO_FLUSH = 1 << 20
DROPPED = re.compile(r"wal: dropped (\d+) bytes at offset (\d+) of (\S+)")


def write_records(store, rng, model, count):
    """SETs ``count - 1`` fresh keys, then the first one again: dropping that last record must bring back the
    first value. Returns the key and the request bodies, in the order the WAL must hold them."""
    kv = store.connect("writer")
    keys = distinct_keys(rng, count - 1, "w")
    bodies = []
    for n, key in enumerate([*keys, keys[0]]):
        if n == 1:  # neither changes anything, so neither is logged
            kv.call(DELETE, b"missing", status=NOT_FOUND)
            kv.call(SET, key, bytes(MAX_VALUE + 1), status=ERROR, payload=None)
        value = random_value(rng, 12, 120)
        kv.set(key, value)
        model.data[key] = value
        model.touched.add(key)
        bodies.append(request(SET, key, value)[4:])
    return keys[0], bodies


def wal_after_kill(store, bodies):
    """Kills the engine and reads its newest WAL, which must end with exactly these request bodies."""
    store.kill()
    path = newest_wal(store.folder)
    return path, expect_wal_ends_with(path.name, path.read_bytes(), bodies)


def expect_wal_ends_with(name, data, bodies, changes="SETs"):
    """The records of a WAL file's bytes, which must end with exactly these request bodies."""
    records = wal_records(data, name)
    tail = [record.body for record in records[-len(bodies) :]]
    if tail != bodies:
        fail(
            f"{name} does not end with the {len(bodies)} {changes} just acknowledged",
            expected=f"their request bodies, in order, the last: {escape_bytes(bodies[-1], 40)}",
            got=f"{len(records)} records, the last: {escape_bytes(records[-1].body, 40) if records else 'none'}",
            hint="log each SET's and DELETE's body exactly as the client sent it (opcode, key_len, key, value)",
        )
    return records


def damage_and_restart(store, rng, damage):
    """Writes records, kills the engine, damages the last record of its newest WAL with ``damage`` (which returns
    what it did) and restarts: the record is dropped, reported, and everything before it is kept."""
    model = Model()
    store.start()
    key, bodies = write_records(store, rng, model, rng.randint(6, 12))
    path, records = wal_after_kill(store, bodies)
    last = records[-1]
    data = bytearray(path.read_bytes())
    what = damage(data, last)
    path.write_bytes(bytes(data))
    log(f"grader: {path.name} damaged ({what}); {len(data) - last.offset} bytes from offset {last.offset} must go")
    model.data[key] = bodies[0][3 + len(key) :]  # the record dropped was the key's second SET
    kv = store.start()
    expect_dropped(store, len(data) - last.offset, last.offset, path.name)
    compare_with_model(kv, model, f"a WAL whose last record was damaged ({what}) and a restart")
    return model


def expect_dropped(store, size, offset, name):
    said = DROPPED.findall(store.stderr_since_start())
    expected = f"wal: dropped {size} bytes at offset {offset} of {name}"
    if not said:
        fail(
            "your server did not say what it dropped from the WAL",
            expected=f"a line on stderr: {expected}",
            hint="after dropping a torn tail print: wal: dropped <N> bytes at offset <O> of <file name>",
        )
    got = said[-1]
    expect_equal(
        f"wal: dropped {got[0]} bytes at offset {got[1]} of {got[2]}",
        expected,
        "the line on stderr about the torn tail",
        hint="N counts every byte from the first bad record to the end of the file",
    )


def check_tail_cut_inside_the_header(open_store, rng):
    """The last record cut inside its 8-byte header, after 1 byte and after 7: dropped, reported, everything before
    it kept"""
    for keep in (1, 7):  # both ends of the header

        def cut(data, last, keep=keep):
            del data[last.offset + keep :]
            return f"cut {keep} bytes into the last record's header"

        damage_and_restart(open_store(memtable_bytes=NO_FLUSH), rng, cut)


def check_tail_cut_inside_the_body(open_store, rng):
    """The last record cut inside its body: dropped, reported, and everything before it kept"""
    store = open_store(memtable_bytes=NO_FLUSH)

    def cut(data, last):
        keep = rng.randint(9, last.size - 1)
        del data[last.offset + keep :]
        return f"cut {keep} of its {last.size} bytes into the last record"

    damage_and_restart(store, rng, cut)


def check_garbled_last_record(open_store, rng):
    """One byte of the last record's body changed, or its length set to 0: it is dropped and reported"""
    store = open_store(memtable_bytes=NO_FLUSH)

    def garble(data, last):
        at = last.offset + 8 + rng.randrange(last.size - 8)
        data[at] ^= 1 << rng.randrange(8)
        return f"one bit flipped at offset {at}, in the last record's body"

    damage_and_restart(store, rng, garble)

    def zero_length(data, last):
        data[last.offset : last.offset + 8] = bytes(8)  # length 0 and crc 0, which is the CRC-32 of no bytes
        return "the last record's length and crc set to 0"

    damage_and_restart(open_store(memtable_bytes=NO_FLUSH), rng, zero_length)


def check_writes_after_recovery_survive(open_store, rng):
    """After a torn tail is dropped, new writes follow the last good record and survive the next kill"""
    store = open_store(memtable_bytes=NO_FLUSH)

    def cut(data, last):
        keep = rng.randint(1, last.size - 1)
        del data[last.offset + keep :]
        return f"cut {keep} of its {last.size} bytes into the last record"

    model = damage_and_restart(store, rng, cut)
    kv = store.connect("after recovery")
    bodies = []
    for key in distinct_keys(rng, 4, "n"):
        value = random_value(rng)
        kv.set(key, value)
        model.data[key] = value
        model.touched.add(key)
        bodies.append(request(SET, key, value)[4:])
    kv.call(DELETE, key)  # a DELETE's record is its request body too: 03, key_len, key
    del model.data[key]
    bodies.append(request(DELETE, key)[4:])
    store.kill()
    wal = newest_wal(store.folder)
    logged = wal.read_bytes()  # read while the server is down; judged once the restart is
    kv = store.start()
    leftover = DROPPED.findall(store.stderr_since_start())
    if leftover:
        fail(
            "your server dropped WAL bytes again on the next start, after a clean kill",
            got=f"wal: dropped {leftover[-1][0]} bytes at offset {leftover[-1][1]} of {leftover[-1][2]}",
            hint="cut the file at the first bad record before accepting writes",
        )
    compare_with_model(kv, model, "writes after a recovery, a SIGKILL and a restart")
    expect_wal_ends_with(wal.name, logged, bodies, changes="SETs and DELETE")
