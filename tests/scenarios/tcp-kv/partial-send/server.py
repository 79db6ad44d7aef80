"""tcp-kv test scenario: writes each response with a single ``send`` and ignores its return value.

A thread per connection, correct framing and limits, but ``send`` may accept only part of the data: with a
socket timeout set (non-blocking under the hood) and a small send buffer, a large response is truncated.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import sys
import threading

MAX_FRAME = 4 * 1024 * 1024
MAX_KEY = 1024
OP_GET, OP_SET, OP_DELETE = 0x01, 0x02, 0x03
STATUS_OK, STATUS_NOT_FOUND, STATUS_ERROR = 0x00, 0x01, 0x02
HEADER = struct.Struct(">I")
CLIENT_TIMEOUT = 600.0
SEND_BUFFER = 4096
THREAD_STACK = 256 * 1024  # the default 8 MiB per thread exhausts the 1 GiB address-space limit


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


def error(message: str) -> bytes:
    return bytes([STATUS_ERROR]) + message.encode()


class Store:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.lock = threading.Lock()

    def handle_request(self, body: bytes) -> bytes:
        if len(body) < 3:
            return error("request body shorter than 3 bytes")
        opcode, key_len = body[0], int.from_bytes(body[1:3], "big")
        if opcode not in (OP_GET, OP_SET, OP_DELETE):
            return error(f"unknown opcode 0x{opcode:02x}")
        if not 1 <= key_len <= MAX_KEY or 3 + key_len > len(body):
            return error(f"bad key_len {key_len}")
        key, rest = body[3 : 3 + key_len], body[3 + key_len :]
        with self.lock:
            if opcode == OP_SET:
                self.data[key] = rest
                return bytes([STATUS_OK])
            if rest:
                return error("unexpected bytes after the key")
            if opcode == OP_GET:
                value = self.data.get(key)
                return bytes([STATUS_NOT_FOUND]) if value is None else bytes([STATUS_OK]) + value
            found = self.data.pop(key, None) is not None
            return bytes([STATUS_OK]) if found else bytes([STATUS_NOT_FOUND])


def read_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def respond(sock: socket.socket, body: bytes) -> None:
    sock.send(frame(body))  # BUG: send() may write only part of the data; the rest is lost


def serve_client(sock: socket.socket, store: Store) -> None:
    with sock:
        sock.settimeout(CLIENT_TIMEOUT)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        try:
            while True:
                header = read_exact(sock, HEADER.size)
                if header is None:
                    return
                (length,) = HEADER.unpack(header)
                if length > MAX_FRAME:
                    respond(sock, error(f"frame length {length} exceeds {MAX_FRAME}"))
                    return
                body = read_exact(sock, length)
                if body is None:
                    return
                respond(sock, store.handle_request(body))
        except OSError:
            return


def main() -> int:
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    threading.stack_size(THREAD_STACK)
    store = Store()
    with socket.create_server(("127.0.0.1", int(os.environ["PORT"]))) as listener:
        while True:
            client, _ = listener.accept()
            threading.Thread(target=serve_client, args=(client, store), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
