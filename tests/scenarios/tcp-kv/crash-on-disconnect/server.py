"""tcp-kv test scenario: a connection reset kills the whole server.

A single-threaded ``selectors`` event loop that handles an orderly close (``recv`` returning ``b""``)
but not a reset: ``ConnectionResetError`` or ``BrokenPipeError`` from one client escapes the loop
and the process dies, taking every other client with it.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import struct
import sys
import time

MAX_FRAME = 4 * 1024 * 1024
MAX_KEY = 1024
OP_GET, OP_SET, OP_DELETE = 0x01, 0x02, 0x03
STATUS_OK, STATUS_NOT_FOUND, STATUS_ERROR = 0x00, 0x01, 0x02
HEADER = struct.Struct(">I")
READ_SIZE = 256 * 1024
MAX_PENDING_OUTPUT = 1024 * 1024  # stop reading a client that does not read its responses


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


class Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.closing = False  # close once outbuf is written

    def parse(self, store: dict[bytes, bytes]) -> None:
        while len(self.inbuf) >= HEADER.size:
            (length,) = HEADER.unpack_from(self.inbuf)
            if length > MAX_FRAME:
                self.outbuf += frame(error(f"frame length {length} exceeds {MAX_FRAME}"))
                self.inbuf.clear()
                self.closing = True
                return
            if len(self.inbuf) < HEADER.size + length:
                return
            body = bytes(self.inbuf[HEADER.size : HEADER.size + length])
            del self.inbuf[: HEADER.size + length]
            self.outbuf += frame(handle_request(store, body))


class Server:
    def __init__(self, port: int) -> None:
        self.store: dict[bytes, bytes] = {}
        self.selector = selectors.DefaultSelector()
        self.listener: socket.socket | None = socket.create_server(("127.0.0.1", port))
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.stop_requested = False

    def close(self, conn: Connection) -> None:
        self.selector.unregister(conn.sock)
        conn.sock.close()

    def update_interest(self, conn: Connection) -> None:
        if conn.closing and not conn.outbuf:
            self.close(conn)
            return
        events = 0
        if not conn.closing and len(conn.outbuf) < MAX_PENDING_OUTPUT:
            events |= selectors.EVENT_READ
        if conn.outbuf:
            events |= selectors.EVENT_WRITE
        self.selector.modify(conn.sock, events or selectors.EVENT_READ, conn)

    def on_readable(self, conn: Connection) -> None:
        data = conn.sock.recv(READ_SIZE)  # BUG: a reset raises ConnectionResetError, caught nowhere
        if not data:
            self.close(conn)
            return
        conn.inbuf += data
        conn.parse(self.store)
        self.update_interest(conn)

    def on_writable(self, conn: Connection) -> None:
        sent = conn.sock.send(conn.outbuf)  # BUG: a reset or broken pipe here is not caught either
        del conn.outbuf[:sent]
        self.update_interest(conn)

    def accept(self) -> None:
        assert self.listener is not None
        while True:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, Connection(sock))

    def run(self) -> None:
        deadline = None
        while True:
            if self.stop_requested and deadline is None:
                assert self.listener is not None
                self.selector.unregister(self.listener)
                self.listener.close()
                self.listener = None
                deadline = time.monotonic() + 1.2
                for key in list(self.selector.get_map().values()):
                    key.data.closing = True
                    self.update_interest(key.data)
            if deadline is not None and (not self.selector.get_map() or time.monotonic() > deadline):
                return
            for key, mask in self.selector.select(timeout=0.1):
                if key.data is None:
                    self.accept()
                    continue
                conn = key.data
                if mask & selectors.EVENT_READ and not conn.closing:
                    self.on_readable(conn)
                if mask & selectors.EVENT_WRITE and conn.sock.fileno() != -1 and conn.outbuf:
                    self.on_writable(conn)


def main() -> int:
    server = Server(int(os.environ["PORT"]))

    def request_stop(signum: int, frame: object) -> None:
        server.stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
