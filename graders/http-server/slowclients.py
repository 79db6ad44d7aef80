"""Slowloris clients: connections that send a request head one byte at a time (or nothing at all) and never
finish it. A background thread drives them and records when the server closes each one, so a check can ask
both "were other clients served meanwhile?" and "was every slow client cut off in time?"."""

from __future__ import annotations

import select
import socket
import threading
import time

from labkit.checks import log
from labkit.ports import LOOPBACK
from labkit.render import escape_bytes
from labkit.wait import until

ENDLESS_HEAD = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"z" * 4096
LIFETIME_S = 4.0  # the thread gives up after this long, whatever the server does


class SlowClients:
    def __init__(
        self, port: int, count: int, *, label: str, interval: float = 0.1, idle: bool = False, first: bytes = b""
    ) -> None:
        """``idle`` clients send nothing after ``first`` (sent at once on connecting); the others then send their
        head one byte every ``interval`` seconds."""
        self.label = label
        self.interval = interval
        self.idle = idle
        self.sockets = [socket.create_connection((LOOPBACK, port), timeout=2.0) for _ in range(count)]
        for sock in self.sockets:
            sock.sendall(first)
        self.sent = [0] * count
        self.closed_at: list[float | None] = [None] * count
        self.received = [bytearray() for _ in range(count)]
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=label, daemon=True)
        how = "connect and send nothing" if idle else f"send their head one byte every {interval:g} s"
        if first:
            how = f"send {escape_bytes(first)} and then " + ("nothing" if idle else "one byte at a time")
        log(f"{count} {label}(s) {how}")

    def __enter__(self) -> SlowClients:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(LIFETIME_S)
        for sock in self.sockets:
            sock.close()

    def _open(self) -> list[int]:
        return [n for n, at in enumerate(self.closed_at) if at is None]

    def _run(self) -> None:
        while not self._stop.is_set() and time.monotonic() - self.started < LIFETIME_S:
            if not self.idle:
                for n in self._open():
                    try:
                        self.sockets[n].send(ENDLESS_HEAD[self.sent[n] : self.sent[n] + 1])
                        self.sent[n] += 1
                    except OSError:
                        self._closed(n)
            open_now = self._open()
            if not open_now:
                return
            readable, _, _ = select.select([self.sockets[n] for n in open_now], [], [], self.interval)
            for sock in readable:
                n = self.sockets.index(sock)
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    chunk = b""
                if chunk:
                    self.received[n] += chunk
                else:
                    self._closed(n)

    def _closed(self, n: int) -> None:
        if self.closed_at[n] is None:
            self.closed_at[n] = time.monotonic()

    def first_closed_at(self) -> float | None:
        return min((at for at in self.closed_at if at is not None), default=None)

    def wait_all_closed(self, within: float) -> bool:
        """True once the server has closed every connection, at most ``within`` seconds after they started."""
        left = max(0.0, self.started + within - time.monotonic())
        return until(lambda: not self._open(), left, interval=0.02) is not None  # polls the thread's record
