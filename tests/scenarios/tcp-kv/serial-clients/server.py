"""tcp-kv test scenario: serves one client at a time.

A blocking accept loop that handles each connection to the end before accepting the next one. Correct
for a single client, but an idle or half-sent client blocks everybody else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import sys

MAX_FRAME = 4 * 1024 * 1024
MAX_KEY = 1024
OP_GET, OP_SET, OP_DELETE = 0x01, 0x02, 0x03
STATUS_OK, STATUS_NOT_FOUND, STATUS_ERROR = 0x00, 0x01, 0x02
HEADER = struct.Struct(">I")


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


def error(message: str) -> bytes:
    return bytes([STATUS_ERROR]) + message.encode()


def handle_request(store: dict[bytes, bytes], body: bytes) -> bytes:
    if len(body) < 3:
        return error("request body shorter than 3 bytes")
    opcode, key_len = body[0], int.from_bytes(body[1:3], "big")
    if opcode not in (OP_GET, OP_SET, OP_DELETE):
        return error(f"unknown opcode 0x{opcode:02x}")
    if not 1 <= key_len <= MAX_KEY or 3 + key_len > len(body):
        return error(f"bad key_len {key_len}")
    key, rest = body[3 : 3 + key_len], body[3 + key_len :]
    if opcode == OP_SET:
        store[key] = rest
        return bytes([STATUS_OK])
    if rest:
        return error("unexpected bytes after the key")
    if opcode == OP_GET:
        value = store.get(key)
        return bytes([STATUS_NOT_FOUND]) if value is None else bytes([STATUS_OK]) + value
    return bytes([STATUS_OK]) if store.pop(key, None) is not None else bytes([STATUS_NOT_FOUND])


def read_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def serve_client(sock: socket.socket, store: dict[bytes, bytes]) -> None:
    while True:
        header = read_exact(sock, HEADER.size)
        if header is None:
            return
        (length,) = HEADER.unpack(header)
        if length > MAX_FRAME:
            sock.sendall(frame(error(f"frame length {length} exceeds {MAX_FRAME}")))
            return
        body = read_exact(sock, length)
        if body is None:
            return
        sock.sendall(frame(handle_request(store, body)))


def main() -> int:
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    store: dict[bytes, bytes] = {}
    with socket.create_server(("127.0.0.1", int(os.environ["PORT"]))) as listener:
        while True:
            # BUG: the next client is accepted only after this one has disconnected.
            client, _ = listener.accept()
            with client, contextlib.suppress(OSError):
                serve_client(client, store)


if __name__ == "__main__":
    sys.exit(main())
