"""Stage 2: one request, one reply: SET, GET, DELETE and the status codes."""

import random

from kvwire import DELETE, ERROR, GET, NOT_FOUND, SET, frame


def random_key(rng: random.Random, prefix: bytes = b"k") -> bytes:
    return prefix + rng.randbytes(rng.randint(1, 16))


def check_set_then_get_returns_the_value(kv, rng):
    """SET then GET returns the value"""
    client = kv()
    key, value = random_key(rng), rng.randbytes(rng.randint(1, 200))
    client.set(key, value)
    client.get(key, value)


def check_get_of_a_missing_key_is_not_found(kv, rng):
    """GET of a missing key answers NOT_FOUND"""
    kv().get(random_key(rng, b"missing-"), None)


def check_set_overwrites(kv, rng):
    """SET on an existing key replaces the value"""
    client = kv()
    key = random_key(rng)
    client.set(key, b"first")
    client.set(key, b"second value")
    client.get(key, b"second value")


def check_delete_removes_the_key(kv, rng):
    """DELETE removes a key; deleting it again is NOT_FOUND"""
    client = kv()
    key = random_key(rng)
    client.set(key, b"v")
    client.call(DELETE, key)
    client.call(GET, key, status=NOT_FOUND)
    client.call(DELETE, key, status=NOT_FOUND)


def check_binary_keys_and_empty_values(kv):
    """Keys are raw bytes and values may be empty"""
    client = kv()
    key = b"\x00\xff\r\n key"
    client.set(key, b"")
    client.get(key, b"")
    client.get(b"\x00\xff\r\n", None)


def check_unknown_opcode_is_an_error_and_the_connection_stays_open(kv, rng):
    """An unknown opcode gets ERROR and the connection stays usable"""
    client = kv()
    client.tcp.send(frame(b"\x7f\x00\x01k"), note="opcode 0x7f does not exist")
    client.expect_reply("a request with unknown opcode 0x7f", ERROR, None)
    key = random_key(rng)
    client.call(SET, key, b"after-error")
    client.get(key, b"after-error")
