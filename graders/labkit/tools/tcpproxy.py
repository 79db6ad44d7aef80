"""A TCP fault proxy for one directed link: partitions, delays, dropped and reset connections, on the grader's cue.

The proxy listens on 127.0.0.1 (an ephemeral port) and forwards each connection to a loopback target. Each
direction of a connection holds at most ``buffer_bytes``: when the side being written to does not read, the
proxy stops reading from the other side, so backpressure reaches the sender as it would without the proxy.

Partitions come in two modes. ``"blackhole"`` silences the link: open connections stay open but no byte moves
either way (the proxy stops reading, so nothing is lost: like TCP across a healed partition, what was sent
arrives after :meth:`TcpProxy.heal` unless a peer gave up first). ``"reset"`` resets every open connection on
both sides at once. In both modes a new connection is reset as soon as it is accepted, the nearest a listening
proxy can come to a refused connect, and counted as refused.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import selectors
import socket
import struct
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

from labkit import context
from labkit.ports import LOOPBACK, require_loopback
from labkit.tools._loop import SelectorLoop

PartitionMode = Literal["blackhole", "reset"]

CHUNK = 65536
ACCEPTS_PER_WAKEUP = 64
MAX_DELAY_S = 60.0


@dataclass(frozen=True)
class TcpProxyStats:
    bytes_to_target: int  # delivered to the target, client -> target
    bytes_to_client: int  # delivered to the client, target -> client
    accepted: int  # every connection the proxy accepted, the refused and failed ones included
    active: int  # connections open now
    refused: int  # reset at once: during a partition or over the connection cap
    failed: int  # reset because the target refused the proxy's connect


class _Pipe:
    """One direction of a link: bytes read from ``src`` wait until due, then go to ``dst``."""

    def __init__(self, src: socket.socket, dst: socket.socket) -> None:
        self.src, self.dst = src, dst
        self.queue: deque[tuple[float, bytes]] = deque()
        self.queued = 0
        self.eof = False  # src sent its FIN
        self.shut = False  # and it was passed on to dst


class _Link:
    def __init__(self, client: socket.socket, upstream: socket.socket, connecting: bool) -> None:
        self.client, self.upstream, self.connecting = client, upstream, connecting
        self.to_target = _Pipe(client, upstream)
        self.to_client = _Pipe(upstream, client)
        self.closed = False


class TcpProxy(SelectorLoop):
    """Forwards connections from ``.port`` to ``target``; controls may be called from any thread at any time."""

    def __init__(
        self,
        target: tuple[str, int],
        *,
        label: str = "tcp proxy",
        max_connections: int = 64,
        buffer_bytes: int = 256 * 1024,
    ) -> None:
        self.target = require_loopback(*target, what="the proxy's target")
        self._listener = socket.create_server((LOOPBACK, 0), backlog=max_connections)
        try:
            super().__init__(label)
        except BaseException:
            self._listener.close()
            raise
        self.label, self.max_connections, self.buffer_bytes = label, max_connections, buffer_bytes
        self._family = socket.AF_INET6 if ":" in self.target[0] else socket.AF_INET
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self.address = (LOOPBACK, self.port)
        self.selector.register(self._listener, selectors.EVENT_READ, self._accept)
        self._links: list[_Link] = []
        self._interest: dict[socket.socket, int] = {}
        self._partition: PartitionMode | None = None
        self._delay = 0.0
        self._counts = dict.fromkeys(("bytes_to_target", "bytes_to_client", "accepted", "refused", "failed"), 0)
        self._final: TcpProxyStats | None = None
        self._start()
        context.log(f"{label}: {LOOPBACK}:{self.port} → {self.target[0]}:{self.target[1]}")

    # Controls, from the grader's thread.

    def partition(self, mode: PartitionMode = "blackhole") -> None:
        if mode not in ("blackhole", "reset"):
            raise ValueError(f"partition mode must be 'blackhole' or 'reset', not {mode!r}")
        self.call(lambda: self._set_partition(mode))
        context.log(f"{self.label}: partitioned ({mode})")

    def heal(self) -> None:
        self.call(lambda: self._set_partition(None))
        context.log(f"{self.label}: healed")

    def delay(self, seconds: float) -> None:
        """Holds each chunk read from now on ``seconds`` before passing it on, in order (0: no delay)."""
        if not 0 <= seconds <= MAX_DELAY_S:
            raise ValueError(f"delay must be between 0 and {MAX_DELAY_S:g} s, not {seconds!r}")
        self.call(lambda: self._set_delay(seconds))
        context.log(f"{self.label}: delay {seconds:g} s per chunk")

    def drop_connections(self) -> None:
        """Closes every open connection on both sides, discarding bytes in flight (a FIN, or an RST from the
        kernel when bytes the proxy had not read yet were waiting)."""
        self.call(lambda: self._close_all(reset=False))
        context.log(f"{self.label}: dropped every connection")

    def reset_connections(self) -> None:
        """Resets every open connection on both sides (SO_LINGER 0): each peer sees ECONNRESET."""
        self.call(lambda: self._close_all(reset=True))
        context.log(f"{self.label}: reset every connection")

    def stats(self) -> TcpProxyStats:
        return self._final if self._final is not None else self.call(self._snapshot)

    def close(self) -> None:
        """Closes every connection and the listener; the loop thread is gone when this returns."""
        if self._final is None:
            try:
                self._final = self.call(self._snapshot)
            finally:
                self._stop()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # The loop thread.

    def _snapshot(self) -> TcpProxyStats:
        return TcpProxyStats(active=len(self._links), **self._counts)

    def _set_delay(self, seconds: float) -> None:
        self._delay = seconds

    def _set_partition(self, mode: PartitionMode | None) -> None:
        self._partition = mode
        if mode == "reset":
            self._close_all(reset=True)

    def _accept(self, mask: int) -> None:
        for _ in range(ACCEPTS_PER_WAKEUP):
            try:
                client, _ = self._listener.accept()
            except BlockingIOError:
                return
            self._counts["accepted"] += 1
            if self._partition is not None or len(self._links) >= self.max_connections:
                _close(client, reset=True)
                self._counts["refused"] += 1
                continue
            client.setblocking(False)
            upstream = socket.socket(self._family, socket.SOCK_STREAM)
            upstream.setblocking(False)
            outcome = upstream.connect_ex(self.target)
            if outcome not in (0, errno.EINPROGRESS):
                self._counts["failed"] += 1
                _close(client, reset=True)
                upstream.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._links.append(_Link(client, upstream, connecting=outcome != 0))

    def _on_ready(self, link: _Link, sock: socket.socket, mask: int) -> None:
        if link.closed:
            return
        if link.connecting and sock is link.upstream:
            link.connecting = False
            if link.upstream.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                self._counts["failed"] += 1
                self._close_link(link, reset=True)
            return
        if mask & selectors.EVENT_READ:
            self._read(link, link.to_target if sock is link.client else link.to_client)

    def _read(self, link: _Link, pipe: _Pipe) -> None:
        room = min(CHUNK, self.buffer_bytes - pipe.queued)
        if room <= 0:
            return
        try:
            data = pipe.src.recv(room)
        except BlockingIOError:
            return
        except OSError:  # the peer reset: so does the proxy, towards the other side
            self._close_link(link, reset=True)
            return
        if not data:
            pipe.eof = True
            return
        pipe.queue.append((time.monotonic() + self._delay, data))
        pipe.queued += len(data)

    def _flush(self, link: _Link, pipe: _Pipe, now: float, counter: str) -> None:
        while pipe.queue and pipe.queue[0][0] <= now:
            due, data = pipe.queue[0]
            try:
                sent = pipe.dst.send(data)
            except BlockingIOError:
                return
            except OSError:
                self._close_link(link, reset=True)
                return
            self._counts[counter] += sent
            pipe.queued -= sent
            if sent < len(data):
                pipe.queue[0] = (due, data[sent:])
                return
            pipe.queue.popleft()
        if pipe.eof and not pipe.queue and not pipe.shut:
            pipe.shut = True
            try:
                pipe.dst.shutdown(socket.SHUT_WR)
            except OSError:
                self._close_link(link, reset=True)

    def _step(self) -> float | None:
        now = time.monotonic()
        moving = self._partition is None
        for link in list(self._links):
            if moving and not link.connecting:
                self._flush(link, link.to_target, now, "bytes_to_target")
                if not link.closed:
                    self._flush(link, link.to_client, now, "bytes_to_client")
            if not link.closed and link.to_target.shut and link.to_client.shut:
                self._close_link(link, reset=False)
        self._update_interest(now, moving)
        pipes = [pipe for link in self._links for pipe in (link.to_target, link.to_client)]
        dues = [pipe.queue[0][0] for pipe in pipes if pipe.queue and pipe.queue[0][0] > now]
        return min(dues) - now if moving and dues else None

    def _update_interest(self, now: float, moving: bool) -> None:
        """Reads only where the queue has room, writes only where due bytes wait: that is the backpressure."""
        for link in self._links:
            for sock, incoming, outgoing in (
                (link.client, link.to_target, link.to_client),
                (link.upstream, link.to_client, link.to_target),
            ):
                mask = 0
                if link.connecting:
                    mask = selectors.EVENT_WRITE if sock is link.upstream else 0
                elif moving:
                    if not incoming.eof and incoming.queued < self.buffer_bytes:
                        mask |= selectors.EVENT_READ
                    if outgoing.queue and outgoing.queue[0][0] <= now:
                        mask |= selectors.EVENT_WRITE
                current = self._interest.get(sock, 0)
                if mask == current:
                    continue
                if mask == 0:
                    self.selector.unregister(sock)
                    del self._interest[sock]
                elif current == 0:
                    self.selector.register(sock, mask, functools.partial(self._on_ready, link, sock))
                else:
                    self.selector.modify(sock, mask, functools.partial(self._on_ready, link, sock))
                if mask:
                    self._interest[sock] = mask

    def _close_link(self, link: _Link, *, reset: bool) -> None:
        link.closed = True
        for sock in (link.client, link.upstream):
            if self._interest.pop(sock, None) is not None:
                self.selector.unregister(sock)
            _close(sock, reset=reset)
        self._links.remove(link)

    def _close_all(self, *, reset: bool) -> None:
        for link in list(self._links):
            self._close_link(link, reset=reset)

    def _teardown(self) -> None:
        self._close_all(reset=False)
        self._listener.close()


def _close(sock: socket.socket, *, reset: bool) -> None:
    if reset:
        with contextlib.suppress(OSError):  # already reset by its peer
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
