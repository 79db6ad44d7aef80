"""Reference solution for the tcp-kv lab: an in-memory key-value store over TCP.

Standard library only. One asyncio event loop serves every connection; each connection is an
``asyncio.Protocol`` that buffers incoming bytes, answers every complete frame as soon as it is there,
and hands responses to the transport, which writes them completely even when the socket accepts only
part of them at a time.
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

OP_GET = 0x01
OP_SET = 0x02
OP_DELETE = 0x03

STATUS_OK = 0x00
STATUS_NOT_FOUND = 0x01
STATUS_ERROR = 0x02

HEADER = struct.Struct(">I")
REQUEST_HEAD = struct.Struct(">BH")

# On SIGTERM, requests that clients sent just before the signal may still sit in kernel buffers:
# SETTLE seconds of normal service read and answer them. Responses then get until SHUTDOWN_DEADLINE
# to be written; whatever is left is cut, so the process exits well within its 2 seconds.
SETTLE = 0.1
SHUTDOWN_DEADLINE = 1.2


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


def error(message: str) -> bytes:
    return bytes([STATUS_ERROR]) + message.encode()


def handle_request(store: dict[bytes, bytes], body: bytes) -> bytes:
    """Apply one request body to the store and return the response body."""
    if len(body) < REQUEST_HEAD.size:
        return error(f"request body is {len(body)} bytes, need at least 3")
    opcode, key_len = REQUEST_HEAD.unpack_from(body)
    if opcode not in (OP_GET, OP_SET, OP_DELETE):
        return error(f"unknown opcode 0x{opcode:02x}")
    if not 1 <= key_len <= MAX_KEY:
        return error(f"key_len {key_len} is outside 1..{MAX_KEY}")
    key_end = REQUEST_HEAD.size + key_len
    if key_end > len(body):
        return error(f"key_len {key_len} exceeds the {len(body) - REQUEST_HEAD.size} bytes left in the body")
    key = body[REQUEST_HEAD.size : key_end]

    if opcode == OP_SET:
        store[key] = body[key_end:]
        return bytes([STATUS_OK])
    if key_end != len(body):
        return error(f"{len(body) - key_end} unexpected bytes after the key")
    if opcode == OP_GET:
        value = store.get(key)
        return bytes([STATUS_NOT_FOUND]) if value is None else bytes([STATUS_OK]) + value
    if store.pop(key, None) is None:
        return bytes([STATUS_NOT_FOUND])
    return bytes([STATUS_OK])


class Connection(asyncio.Protocol):
    def __init__(self, server: KVServer) -> None:
        self.server = server
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.writing_paused = False
        self.eof = False  # nothing more will be read: answer what is buffered, then close
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        # Called for a clean close, a reset and a broken pipe alike; nothing else needs to know.
        self.closed = True
        self.buffer.clear()
        self.server.connections.discard(self)
        if self.server.connections:  # BUG: inverted, so the first close ends the wait
            self.server.all_closed.set()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self.buffer += data
        self.process_buffer()

    def eof_received(self) -> bool:
        # The client has finished sending but may still be reading: answer what is complete, then close
        # (a trailing partial frame is dropped). True keeps the transport open until then.
        self.eof = True
        self.process_buffer()
        return True

    def process_buffer(self) -> None:
        # One read may hold several frames, or only part of one: answer every complete frame in order.
        while not self.closed and not self.writing_paused and len(self.buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self.buffer)
            if length > MAX_FRAME:
                # Answer from the header alone: never wait for, or make room for, the announced body.
                self.send(error(f"frame length {length} exceeds MAX_FRAME {MAX_FRAME}"))
                self.close()
                return
            end = HEADER.size + length
            if len(self.buffer) < end:
                break
            body = bytes(self.buffer[HEADER.size : end])
            del self.buffer[:end]
            self.send(handle_request(self.server.store, body))
        if self.eof and not self.writing_paused and not self.closed:
            self.close()

    # Backpressure: while the client is not reading its responses, neither read nor answer its next
    # requests. Otherwise a client that pipelines without reading could make the server queue
    # unbounded output (a 10-byte GET can ask for a 4 MiB reply).
    def pause_writing(self) -> None:
        self.writing_paused = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self.transport is None or self.transport.is_closing():
            return
        if not self.eof:
            self.transport.resume_reading()
        self.process_buffer()

    def shut_down(self) -> None:
        """Server shutdown: read nothing more, answer the complete requests already buffered, close."""
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()
            self.eof = True
            self.process_buffer()

    def send(self, body: bytes) -> None:
        assert self.transport is not None
        self.transport.write(frame(body))

    def close(self) -> None:
        # transport.close() writes out everything already queued before closing the socket.
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class KVServer:
    def __init__(self) -> None:
        self.store: dict[bytes, bytes] = {}
        self.connections: set[Connection] = set()
        self.all_closed = asyncio.Event()

    async def serve(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)

        sock = socket.create_server(("127.0.0.1", port), backlog=128)
        listener = await loop.create_server(lambda: Connection(self), sock=sock)
        await stop.wait()

        # Stop accepting. Connections the kernel has already completed wait in the listen backlog and
        # their clients may have sent requests: take them in rather than resetting them.
        await self.accept_backlog(sock)
        listener.close()
        await asyncio.sleep(SETTLE)
        self.all_closed.clear()
        for conn in list(self.connections):
            conn.shut_down()
        if not await self.wait_all_closed(SHUTDOWN_DEADLINE):
            for conn in list(self.connections):
                conn.abort()

    async def accept_backlog(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                client, _ = sock.accept()
            except OSError:  # BlockingIOError: the backlog is empty
                return
            client.setblocking(False)
            await loop.connect_accepted_socket(lambda: Connection(self), client)

    async def wait_all_closed(self, timeout: float) -> bool:
        if not self.connections:
            return True
        try:
            await asyncio.wait_for(self.all_closed.wait(), timeout)
        except TimeoutError:
            return False
        return True


def main() -> int:
    port_text = os.environ.get("PORT")
    if port_text is None or not port_text.isdigit():
        print("PORT must be set to a TCP port number", file=sys.stderr)
        return 2
    asyncio.run(KVServer().serve(int(port_text)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
