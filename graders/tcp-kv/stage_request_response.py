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
    """Unknown opcodes (either side of the valid ones, and far off) get ERROR; the connection stays usable"""
    client = kv()
    key = random_key(rng)
    client.set(key, b"kept")
    for opcode in (0x00, 0x04, 0x7F, 0xFF):  # 0x00 and 0x04 border GET..DELETE: no range check may let them in
        body = bytes([opcode]) + len(key).to_bytes(2, "big") + key
        client.tcp.send(frame(body), note=f"opcode 0x{opcode:02x} does not exist")
        client.expect_reply(f"a request with unknown opcode 0x{opcode:02x}", ERROR, None)
    client.get(key, b"kept")  # not taken for a DELETE (or anything else) on the way
    client.call(SET, key, b"after-error")
    client.get(key, b"after-error")
