"""Stage 1: GET, SET, DELETE and STATS over the tcp-kv protocol, with lsm-store's limits."""

import struct

from labkit.checks import expect
from labkit.tools.kvproto import DELETE, ERROR, GET, NOT_FOUND, SET, request
from lsmwire import MAX_FRAME, MAX_VALUE, stats
from model import random_value

LENGTHS_HINT = "check every length against the body's size before reading what it announces (README.md, Replies)"


def check_set_get_delete(store, rng):
    """SET, GET, overwrite and DELETE answer as tcp-kv does"""
    kv = store.start()
    keys = [b"k" + rng.randbytes(6), bytes([0, 255, 13, 10]) + rng.randbytes(3), b"a"]
    values = [random_value(rng) for _ in keys]
    for key, value in zip(keys, values, strict=True):
        kv.get(key, None)
        kv.set(key, value)
        kv.get(key, value)
    kv.set(keys[0], b"")
    kv.get(keys[0], b"")
    replacement = random_value(rng)
    kv.set(keys[1], replacement)
    kv.get(keys[1], replacement)
    kv.call(DELETE, keys[1])
    kv.get(keys[1], None)
    kv.call(DELETE, keys[1], status=NOT_FOUND)
    kv.get(keys[2], values[2])


def check_limits_on_keys_and_values(store, rng):
    """A 1024-byte key and a 65536-byte value are stored (and the key deleted); one byte more is refused with ERROR"""
    kv = store.start()
    long_key, value = b"K" * 1024, rng.randbytes(MAX_VALUE)
    kv.set(long_key, value)
    kv.get(long_key, value)
    kv.call(DELETE, long_key)
    kv.get(long_key, None)
    kv.call(SET, b"v", rng.randbytes(MAX_VALUE + 1), status=ERROR, payload=None)
    kv.get(b"v", None)
    kv.call(SET, b"K" * 1025, b"x", status=ERROR, payload=None)
    kv.set(b"after", b"still served")
    kv.get(b"after", b"still served")


def check_malformed_requests_get_error(store):
    """Unknown opcodes and bodies whose lengths do not add up (GET, SET, DELETE, STATS, SCAN) get ERROR; serves on"""
    kv = store.start()
    for body, what in (
        (b"", "an empty body"),
        (b"\x7f\x00\x01k", "a request with opcode 0x7f"),
        (bytes([GET]) + struct.pack(">H", 0), "a GET with key_len 0"),
        (bytes([GET]) + struct.pack(">H", 1) + b"kx", "a GET with a byte after its key"),
        (b"\x05\x00", "a STATS with a byte after its opcode"),
        (b"\x04\x00\x01", "a SCAN cut inside its start key"),
        (b"\x04\x00", "a SCAN cut inside its start_len"),
        (bytes([GET]) + b"\x00", "a GET cut inside its key_len"),
        (bytes([DELETE]) + struct.pack(">H", 0), "a DELETE with key_len 0"),
        (bytes([DELETE]) + struct.pack(">H", 1) + b"kx", "a DELETE with a byte after its key"),
        (bytes([SET]) + struct.pack(">H", 0) + b"value", "a SET with key_len 0"),
        (bytes([SET]) + struct.pack(">H", 5) + b"ab", "a SET cut inside its key"),
        (bytes([SET]) + struct.pack(">H", 5) + b"abcd", "a SET one byte short of its 5-byte key"),
    ):
        status, _ = kv.exchange(body, what, hint=LENGTHS_HINT)
        expect(status == ERROR, f"{what} must be answered ERROR, got status {status}", hint=LENGTHS_HINT)
    kv.set(b"k", b"v")
    kv.get(b"k", b"v")


def check_oversize_frame_closes_the_connection(store):
    """A frame of exactly MAX_FRAME bytes is read and refused, the connection kept; one byte more is oversize:
    ERROR and the connection is closed; others carry on"""
    kv = store.start()
    exact = bytes([SET]) + struct.pack(">H", 1) + b"m" + bytes(MAX_FRAME - 4)
    what = "a frame of exactly MAX_FRAME bytes (a SET whose value is too long)"
    kv.tcp.send(struct.pack(">I", len(exact)), note="the header of " + what)
    expect(
        not kv.tcp.closed_by_peer(0.3),
        f"your program closed the connection on the header of {what}, as if it were oversize",
        hint="only a frame longer than MAX_FRAME is oversize: read this one, refuse the SET and keep serving",
    )
    kv.tcp.send(exact, note="its body")
    kv.expect_reply(what, ERROR, None)
    kv.get(b"m", None)
    kv.tcp.send(struct.pack(">I", MAX_FRAME + 1), note="length MAX_FRAME + 1, no body")
    kv.expect_reply("an oversize frame header", ERROR, None)
    expect(
        kv.tcp.closed_by_peer(5.0),
        "the connection stayed open after the oversize frame",
        hint="after an oversize header, answer ERROR and close that connection",
    )
    other = store.connect("second client")
    other.set(b"k", b"v")
    other.get(b"k", b"v")


def check_idle_connection_does_not_block(store):
    """An idle connection does not delay another"""
    store.start()
    idle = store.connect("idle client")
    idle.tcp.send(request(SET, b"half")[:3], note="the first 3 bytes of a SET, then nothing")
    busy = store.connect("busy client")
    busy.set(b"busy", b"served")
    busy.get(b"busy", b"served")


def check_stats_answers_json(store, rng):
    """STATS answers a JSON object with levels, bytes_on_disk and files_read; a GET from the memtable read no file"""
    kv = store.start()
    value = random_value(rng)
    kv.set(b"s", value)
    kv.get(b"s" + bytes(1), None)
    stats(kv)
    kv.get(b"s" + bytes(1), None)
    kv.get(b"s", value)
    read = stats(kv).files_read
    expect(
        read == 0,
        f"after a GET answered from the memtable, STATS files_read is {read}",
        hint="files_read counts the SSTables the last GET searched: none when the memtable answered it",
    )
