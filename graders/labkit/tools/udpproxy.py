"""A seeded lossy UDP proxy between one client and one server on loopback, recording every datagram.

The client sends to the proxy's port; the proxy forwards to the server and relays the server's replies to the
client's last source address. Each direction draws its fault decisions from its own ``random.Random`` seeded
from ``seed``, six numbers per datagram whatever the outcome: the n-th datagram of a direction meets the same
fate in every run with the same seed and profile, however the two directions interleave in time (a cap on
losses in a row, when set, depends only on the fates of the datagrams before it in the same direction).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import random
import selectors
import socket
import time
from collections import Counter
from dataclasses import dataclass, fields
from typing import Literal

from labkit import context
from labkit.ports import LOOPBACK, require_loopback
from labkit.tools._loop import SelectorLoop

Direction = Literal["to_server", "to_client"]
_Held = tuple[list[bytes], tuple[str, int]]  # the copies of a datagram held for reordering, and where they go
MAX_DATAGRAM = 65507  # the largest UDP payload over IPv4
READS_PER_WAKEUP = 64
COUNTED_AS = {"corrupt": "corrupted", "duplicate": "duplicated", "reorder": "reordered"}


@dataclass(frozen=True)
class UdpFaults:
    """Probabilities per datagram, and a delay of ``delay`` plus up to ``jitter`` seconds on each one kept."""

    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0  # held back and sent right after the next datagram kept in the same direction
    corrupt: float = 0.0  # one bit flipped at a seeded position
    delay: float = 0.0
    jitter: float = 0.0
    # Losses are drops and corruptions (a corrupted datagram is lost to a peer that checks a checksum). Once this many
    # datagrams in a row were lost, the next one is neither dropped nor corrupted; None: no cap.
    max_consecutive_losses: int | None = None

    def __post_init__(self) -> None:
        for name in ("drop", "duplicate", "reorder", "corrupt"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability between 0 and 1, not {getattr(self, name)!r}")
        if not (0.0 <= self.delay <= 60.0 and 0.0 <= self.jitter <= 60.0):
            raise ValueError(f"delay and jitter are seconds between 0 and 60, not {self.delay!r}, {self.jitter!r}")
        if self.max_consecutive_losses is not None and self.max_consecutive_losses < 1:
            raise ValueError(f"max_consecutive_losses is at least 1, or None, not {self.max_consecutive_losses!r}")


@dataclass(frozen=True)
class UdpRecord:
    """One datagram as the proxy received it, and what the proxy did with it."""

    at: float  # time.monotonic() on arrival
    direction: Direction
    data: bytes  # as the sender sent it
    # () when passed on untouched. Not passed on: drop, blackhole, oversize, unaddressed (the server spoke before
    # the client), overflow (too many waiting). Passed on: corrupt, duplicate, reorder, in that order.
    faults: tuple[str, ...]
    delay: float  # seconds it was held before sending (reordering aside)
    flipped_bit: int | None  # with "corrupt": the bit flip_bit() flipped


@dataclass(frozen=True)
class UdpCounts:
    sent: int  # datagrams the sender sent into the proxy
    delivered: int  # datagrams the proxy sent on, duplicates included
    dropped: int  # not passed on, whatever the reason
    duplicated: int
    reordered: int
    corrupted: int
    failed: int  # sends the kernel refused


@dataclass(frozen=True)
class UdpProxyStats:
    to_server: UdpCounts
    to_client: UdpCounts
    waiting: int  # datagrams delayed or held for reordering, not sent yet
    unrecorded: int  # datagrams left out of the log once it was full


def flip_bit(data: bytes, bit: int) -> bytes:
    """``data`` with bit ``bit`` flipped, counting from the most significant bit of the first byte."""
    flipped = bytearray(data)
    flipped[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(flipped)


class UdpProxy(SelectorLoop):
    """Relays datagrams between ``.port`` and ``server``; controls may be called from any thread at any time."""

    def __init__(
        self,
        server: tuple[str, int],
        *,
        seed: int | str,
        to_server: UdpFaults | None = None,
        to_client: UdpFaults | None = None,
        label: str = "udp proxy",
        max_records: int = 10_000,
        max_record_bytes: int = 16 * 1024 * 1024,
        max_waiting: int = 1024,
    ) -> None:
        self.server = require_loopback(*server, what="the proxy's server")
        with contextlib.ExitStack() as opened:  # closes them if anything below fails
            self._front = opened.enter_context(_bound(LOOPBACK))  # the client's side
            self._back = opened.enter_context(_bound("::1" if ":" in self.server[0] else LOOPBACK))
            super().__init__(label)
            opened.pop_all()
        self.label, self.max_waiting = label, max_waiting
        self.max_records, self.max_record_bytes = max_records, max_record_bytes
        self.port: int = self._front.getsockname()[1]
        self.address = (LOOPBACK, self.port)
        self.selector.register(self._front, selectors.EVENT_READ, lambda mask: self._receive("to_server"))
        self.selector.register(self._back, selectors.EVENT_READ, lambda mask: self._receive("to_client"))
        self._client: tuple[str, int] | None = None
        self._rngs = {d: random.Random(f"{seed}/{d}") for d in ("to_server", "to_client")}
        self._faults: dict[Direction, UdpFaults] = {"to_server": UdpFaults(), "to_client": UdpFaults()}
        self._set_faults(to_server, to_client)
        self._counts: dict[Direction, Counter[str]] = {"to_server": Counter(), "to_client": Counter()}
        self._losses_in_a_row: dict[Direction, int] = {"to_server": 0, "to_client": 0}
        self._queue: list[tuple[float, int, Direction, bytes, tuple[str, int]]] = []  # a heap by due time
        self._held: dict[Direction, _Held | None] = {"to_server": None, "to_client": None}
        self._order = itertools.count()
        self._records: list[UdpRecord] = []
        self._record_bytes = 0
        self._unrecorded = 0
        self._blackholed = False
        self._final: tuple[UdpProxyStats, list[UdpRecord]] | None = None
        self._start()
        context.log(f"{label}: {LOOPBACK}:{self.port} → {self.server[0]}:{self.server[1]}, seed {seed!r}")

    # Controls, from the grader's thread.

    def set_faults(self, *, to_server: UdpFaults | None = None, to_client: UdpFaults | None = None) -> None:
        """Replaces the profile of the directions given, for datagrams that arrive from now on."""
        self.call(lambda: self._set_faults(to_server, to_client))
        for direction, profile in (("to the server", to_server), ("to the client", to_client)):
            if profile is not None:
                context.log(f"{self.label}: faults {direction} now {profile}")

    def blackhole(self) -> None:
        """Drops every datagram that arrives from now on, both ways; those already delayed still go out."""
        self.call(lambda: self._set_blackholed(True))
        context.log(f"{self.label}: blackholed")

    def heal(self) -> None:
        self.call(lambda: self._set_blackholed(False))
        context.log(f"{self.label}: healed")

    def stats(self) -> UdpProxyStats:
        return self._final[0] if self._final else self.call(self._snapshot)

    def records(self) -> list[UdpRecord]:
        """The log so far, in arrival order (both directions)."""
        return list(self._final[1]) if self._final else self.call(lambda: list(self._records))

    def close(self) -> None:
        """Stops the proxy; datagrams still delayed or held are discarded. Stats and records stay readable."""
        if self._final is None:
            try:
                self._final = self.call(lambda: (self._snapshot(), self._records))
            finally:
                self._stop()

    def __enter__(self) -> UdpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # The loop thread.

    def _set_faults(self, to_server: UdpFaults | None, to_client: UdpFaults | None) -> None:
        if to_server is not None:
            self._faults["to_server"] = to_server
        if to_client is not None:
            self._faults["to_client"] = to_client

    def _set_blackholed(self, blackholed: bool) -> None:
        self._blackholed = blackholed

    def _waiting(self) -> int:
        return len(self._queue) + sum(len(held[0]) for held in self._held.values() if held)

    def _snapshot(self) -> UdpProxyStats:
        def counts(direction: Direction) -> UdpCounts:
            return UdpCounts(**{field.name: self._counts[direction][field.name] for field in fields(UdpCounts)})

        return UdpProxyStats(counts("to_server"), counts("to_client"), self._waiting(), self._unrecorded)

    def _receive(self, direction: Direction) -> None:
        sock = self._front if direction == "to_server" else self._back
        for _ in range(READS_PER_WAKEUP):
            try:
                data, source = sock.recvfrom(MAX_DATAGRAM + 1)
            except OSError:  # nothing more to read (or an ICMP error surfacing): wait for the next wake-up
                return
            if direction == "to_server":
                self._client = (source[0], source[1])
            elif (source[0], source[1]) != self.server:
                continue  # a stray datagram, not from the server
            self._on_datagram(direction, data)
            self._send_due(time.monotonic())  # at once, so that stats() never counts an undelayed one as waiting

    def _on_datagram(self, direction: Direction, data: bytes) -> None:
        now = time.monotonic()
        drop, duplicate, reorder, corrupt, bit, jitter = (self._rngs[direction].random() for _ in range(6))
        profile, counts = self._faults[direction], self._counts[direction]
        destination = self.server if direction == "to_server" else self._client
        copies = 2 if duplicate < profile.duplicate else 1
        counts["sent"] += 1
        dropped, corrupted = self._spoiled(direction, drop < profile.drop, corrupt < profile.corrupt and bool(data))
        lost = self._lost(dropped, len(data), destination, copies)
        if lost is not None or destination is None:
            counts["dropped"] += 1
            self._record(UdpRecord(now, direction, data, (lost or "unaddressed",), 0.0, None))
            return
        faults: list[str] = []
        flipped_bit, delay = None, profile.delay + profile.jitter * jitter
        out = data
        if corrupted:
            flipped_bit = int(bit * len(data) * 8)
            out = flip_bit(data, flipped_bit)
            faults.append("corrupt")
        if copies == 2:
            faults.append("duplicate")
        held = self._held[direction]
        if reorder < profile.reorder and held is None:
            self._held[direction] = ([out] * copies, destination)
            faults.append("reorder")
        else:
            due = now + delay
            for copy in [out] * copies:
                heapq.heappush(self._queue, (due, next(self._order), direction, copy, destination))
            if held is not None:  # the held datagram goes right after this one
                self._held[direction] = None
                for copy in held[0]:
                    heapq.heappush(self._queue, (due, next(self._order), direction, copy, held[1]))
        counts.update(COUNTED_AS[fault] for fault in faults)
        self._record(UdpRecord(now, direction, data, tuple(faults), delay, flipped_bit))

    def _spoiled(self, direction: Direction, dropped: bool, corrupted: bool) -> tuple[bool, bool]:
        """Whether the draws drop and corrupt this datagram, once the profile's cap on losses in a row is applied."""
        cap = self._faults[direction].max_consecutive_losses
        if cap is not None and self._losses_in_a_row[direction] >= cap:
            dropped = corrupted = False
        self._losses_in_a_row[direction] = self._losses_in_a_row[direction] + 1 if dropped or corrupted else 0
        return dropped, corrupted

    def _lost(self, dropped: bool, size: int, destination: tuple[str, int] | None, copies: int) -> str | None:
        """Why a datagram is not passed on, if it is not."""
        if self._blackholed:
            return "blackhole"
        if dropped:
            return "drop"
        if size > MAX_DATAGRAM:
            return "oversize"
        if destination is None:
            return "unaddressed"
        if self._waiting() + copies > self.max_waiting:
            return "overflow"
        return None

    def _record(self, record: UdpRecord) -> None:
        if len(self._records) < self.max_records and self._record_bytes + len(record.data) <= self.max_record_bytes:
            self._records.append(record)
            self._record_bytes += len(record.data)
        else:
            self._unrecorded += 1

    def _step(self) -> float | None:
        now = time.monotonic()
        self._send_due(now)
        return self._queue[0][0] - now if self._queue else None

    def _send_due(self, now: float) -> None:
        while self._queue and self._queue[0][0] <= now:
            _, _, direction, data, destination = heapq.heappop(self._queue)
            sock = self._back if direction == "to_server" else self._front
            try:
                sock.sendto(data, destination)
                self._counts[direction]["delivered"] += 1
            except OSError:
                self._counts[direction]["failed"] += 1

    def _teardown(self) -> None:
        self._front.close()
        self._back.close()


def _bound(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, 0))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock
