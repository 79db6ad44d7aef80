"""A second, differently built correct tcp-kv server: a blocking socket and one thread per connection.

The grader must give it full marks too; it proves the checks test behaviour, not the reference's design
(asyncio), and that the resource limits leave room for a thread-per-connection server.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import sys
import threading
import time

MAX_FRAME = 4 * 1024 * 1024
MAX_KEY = 1024
POLL_S = 0.05
SHUTDOWN_DEADLINE_S = 1.5

store: dict[bytes, bytes] = {}
store_lock = threading.Lock()
stopping = threading.Event()


def reply(status: int, payload: bytes = b"") -> bytes:
    return struct.pack(">IB", 1 + len(payload), status) + payload


def answer(body: bytes) -> bytes:
    if len(body) < 3:
        return reply(2, b"body shorter than 3 bytes")
    opcode, key_len = struct.unpack_from(">BH", body)
    if opcode not in (1, 2, 3):
        return reply(2, b"unknown opcode")
    if not 1 <= key_len <= MAX_KEY or 3 + key_len > len(body):
        return reply(2, b"bad key length")
    key, rest = body[3 : 3 + key_len], body[3 + key_len :]
    with store_lock:
        if opcode == 2:
            store[key] = rest
            return reply(0)
        if rest:
            return reply(2, b"bytes after the key")
        if opcode == 1:
            value = store.get(key)
            return reply(1) if value is None else reply(0, value)
        return reply(0) if store.pop(key, None) is not None else reply(1)


def send_all(conn: socket.socket, data: bytes) -> None:
    """The socket's short timeout paces the reads; a reply is written without one, however slowly it is read."""
    conn.settimeout(None)
    try:
        conn.sendall(data)
    finally:
        conn.settimeout(POLL_S)


def serve(conn: socket.socket) -> None:
    buffer = bytearray()
    draining = False
    conn.settimeout(POLL_S)
    with conn:
        try:
            while True:
                while len(buffer) >= 4:
                    (length,) = struct.unpack_from(">I", buffer)
                    if length > MAX_FRAME:
                        send_all(conn, reply(2, b"frame too large"))
                        return
                    if len(buffer) < 4 + length:
                        break
                    send_all(conn, answer(bytes(buffer[4 : 4 + length])))
                    del buffer[: 4 + length]
                if stopping.is_set() and not draining:
                    # Requests sent just before the signal may still sit in the kernel: take them too.
                    draining = True
                    conn.settimeout(POLL_S)
                elif stopping.is_set():
                    return
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    if draining:
                        return
                    continue
                if not chunk:
                    return
                buffer += chunk
        except OSError:
            return  # the client reset or went away; only this connection ends


def main() -> int:
    listener = socket.create_server(("127.0.0.1", int(os.environ["PORT"])), backlog=128)
    listener.settimeout(POLL_S)
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    workers: list[threading.Thread] = []
    while not stopping.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        worker = threading.Thread(target=serve, args=(conn,), daemon=True)
        worker.start()
        workers.append(worker)
        workers = [w for w in workers if w.is_alive()]
    listener.close()
    deadline = time.monotonic() + SHUTDOWN_DEADLINE_S
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
