"""A Docker engine that fails on demand: a proxy on a unix socket in front of the real engine's socket, which
answers chosen container starts with the engine's own transient error and passes everything else through.

Pointing ``DOCKER_HOST`` at it puts docker-py, testcontainers and the docker command-line client behind it
alike, so the harness's retries are tested on its real code paths against a real engine. The refusal is the one
runc gave on a loaded CI machine: HTTP 500 "cannot start a stopped process: unknown".

Every request gets its own upstream connection with ``Connection: close``, so each one is seen here; an attach
(the client hijacks the connection for a stream) is piped both ways until either side closes.
"""

from __future__ import annotations

import json
import re
import select
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENGINE_SOCKET = "/var/run/docker.sock"
START = re.compile(rb"^POST /(?:v[\d.]+/)?containers/[^/\s]+/start[?\s]")
REFUSAL = "cannot start a stopped process: unknown"
IDLE_S = 120.0  # a piped stream with no traffic this long is abandoned: bounds a forgotten attach


class FlakyEngine:
    """Refuses the container starts whose 1-based numbers are in ``refuse``, every ``refuse_every``-th start, or
    every start (``refuse_all``)."""

    def __init__(
        self, path: Path, refuse: set[int] | None = None, refuse_all: bool = False, refuse_every: int = 0
    ) -> None:
        self.path = path
        self._refuse = refuse or set()
        self._refuse_all = refuse_all
        self._refuse_every = refuse_every
        self._lock = threading.Lock()
        self.starts = 0
        self.refused = 0
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(64)
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    def close(self) -> None:
        self._closed.set()
        self._server.close()
        self._accepter.join(timeout=5)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            head, body = _read_request(client)
            if head is None:
                return
            if START.match(head) and self._should_refuse():
                payload = json.dumps({"message": REFUSAL}).encode()
                client.sendall(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                    + payload
                )
                return
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
                upstream.connect(ENGINE_SOCKET)
                upstream.sendall(_close_after(head) + body)
                _pipe(client, upstream)

    def _should_refuse(self) -> bool:
        with self._lock:
            self.starts += 1
            every = self._refuse_every > 0 and self.starts % self._refuse_every == 0
            refuse = self._refuse_all or every or self.starts in self._refuse
            self.refused += refuse
            return refuse


def _read_request(client: socket.socket) -> tuple[bytes | None, bytes]:
    """The request's head, and whatever of its body arrived with it (the rest is piped)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _close_after(head: bytes) -> bytes:
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    lines.insert(1, b"Connection: close")
    return b"\r\n".join(lines)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copies both ways, passing on a half-close (a client's stdin at its end), until both sides are done or no
    byte moves for IDLE_S."""
    peers = {a: b, b: a}
    open_ends = [a, b]
    while open_ends:
        readable, _, _ = select.select(open_ends, [], [], IDLE_S)
        if not readable:
            return
        for sock in readable:
            try:
                chunk = sock.recv(65536)
                if chunk:
                    peers[sock].sendall(chunk)
                    continue
                peers[sock].shutdown(socket.SHUT_WR)
            except OSError:
                return
            open_ends.remove(sock)


@contextmanager
def flaky_engine(
    refuse: set[int] | None = None, refuse_all: bool = False, refuse_every: int = 0
) -> Iterator[FlakyEngine]:
    """A FlakyEngine on a socket in a fresh short folder (a unix socket path has at most 107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="lkengine", dir="/tmp") as folder:
        engine = FlakyEngine(Path(folder) / "engine.sock", refuse, refuse_all, refuse_every)
        try:
            yield engine
        finally:
            engine.close()
