"""tcp-kv test scenario: treats each chunk the socket delivers as exactly one frame.

A compact copy of the reference server with one deliberate bug, marked ``BUG``.
"""

from __future__ import annotations

import asyncio
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


class Connection(asyncio.Protocol):
    def __init__(self, server: KVServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        if self.transport.is_closing():
            return
        # BUG: one read is assumed to be one complete frame. A request split over several reads is
        # misparsed, and extra frames that arrive in the same read are silently dropped.
        if len(data) < HEADER.size:
            return
        (length,) = HEADER.unpack_from(data)
        if length > MAX_FRAME:
            self.transport.write(frame(error(f"frame length {length} exceeds {MAX_FRAME}")))
            self.transport.close()
            return
        body = data[HEADER.size : HEADER.size + length]
        self.transport.write(frame(handle_request(self.server.store, body)))

    def pause_writing(self) -> None:
        assert self.transport is not None
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        assert self.transport is not None
        self.transport.resume_reading()


class KVServer:
    def __init__(self) -> None:
        self.store: dict[bytes, bytes] = {}
        self.connections: set[Connection] = set()

    async def serve(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        sock = socket.create_server(("127.0.0.1", port))
        listener = await loop.create_server(lambda: Connection(self), sock=sock)
        await stop.wait()
        listener.close()
        await asyncio.sleep(0.1)  # answer requests still in socket buffers
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.close()
        for _ in range(12):
            if not self.connections:
                return
            await asyncio.sleep(0.1)
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()


def main() -> int:
    port = int(os.environ["PORT"])
    asyncio.run(KVServer().serve(port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
