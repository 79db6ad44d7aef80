"""Stage 6: hostile frames: an oversize length must not be allocated; malformed bodies get ERROR."""

import struct

import psutil

from kvwire import ERROR, GET, MAX_FRAME, MAX_KEY, SET, KvClient, frame
from labkit.checks import expect

RSS_BUDGET = 200 * 1024 * 1024


def expect_still_usable(client: KvClient, key: bytes = b"after") -> None:
    client.set(key, b"still works")
    client.get(key, b"still works")


def expect_error_then_closed(client: KvClient, what: str) -> None:
    client.expect_reply(
        what, ERROR, None, hint="decide from the 4-byte header alone: answer ERROR without waiting for the body"
    )
    expect(
        client.tcp.closed_by_peer(within=2.0),
        f"after {what} the connection must be closed, but it stayed open",
        hint="an oversize frame cannot be skipped safely: answer ERROR, then close that connection",
    )


def check_huge_length_prefix_is_refused_without_allocating(kv, server):
    """A 4 GiB length prefix gets ERROR and a close, without allocating it"""
    client = kv()
    client.tcp.send(struct.pack(">I", 0xFFFFFFFF), note="length prefix 4294967295, no body follows")
    expect_error_then_closed(client, "a frame announcing 4294967295 bytes")
    rss = psutil.Process(server.pid).memory_info().rss
    expect(
        rss < RSS_BUDGET,
        f"your server uses {rss // (1024 * 1024)} MiB after an oversize frame",
        hint="compare the length with MAX_FRAME before you read or allocate anything",
    )
    expect_still_usable(kv("next client"))


def check_one_byte_over_the_limit_is_refused(kv):
    """A frame of MAX_FRAME + 1 bytes gets ERROR and a close"""
    client = kv()
    client.tcp.send(struct.pack(">I", MAX_FRAME + 1) + b"\x01\x00\x01k", note=f"length {MAX_FRAME + 1}")
    expect_error_then_closed(client, f"a frame announcing {MAX_FRAME + 1} bytes")
    expect_still_usable(kv("next client"))


def check_malformed_bodies_get_error_and_the_connection_stays_open(kv):
    """Malformed bodies get ERROR and the connection stays open"""
    client = kv()
    cases = [
        (frame(b""), "an empty frame (length 0)"),
        (frame(b"\x01\x00"), "a body shorter than opcode + key_len"),
        (frame(b"\x01\x00\x00"), "key_len 0"),
        (frame(b"\x01\x00\x09abc"), "key_len 9 with only 3 key bytes"),
        (frame(b"\x01\x00\x01kEXTRA"), "a GET with bytes after the key"),
        (frame(b"\x03\x00\x01kEXTRA"), "a DELETE with bytes after the key"),
        (
            frame(bytes([SET]) + struct.pack(">H", MAX_KEY + 1) + b"k" * (MAX_KEY + 1) + b"v"),
            "a 1025-byte key",
        ),
    ]
    for data, what in cases:
        client.tcp.send(data, note=what)
        client.expect_reply(what, ERROR, None)
    expect_still_usable(client)


def check_shortest_and_longest_keys_are_accepted(kv):
    """Keys of exactly 1 and exactly 1024 bytes are valid"""
    client = kv()
    for key, value in ((b"K" * MAX_KEY, b"long key"), (b"\x01", b"one-byte key"), (b"z", b"another one")):
        client.set(key, value)
        client.call(GET, key, payload=value)
