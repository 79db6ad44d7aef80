"""The grader's own sender and receiver, following the README, for the throughput yardstick.

They run in the grader's process (the receiver in a thread) through a proxy with the learner's link profile, so
the learner's time is compared with the README's algorithm over the same link, on the same machine, in the same
run. Sans-IO engines (bytes in, segments out) under two small socket loops.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections import deque

from labkit.tools.udpproxy import UdpProxy
from link import Link, fin_acknowledged_after
from segments import ACK, FIN, MAX_PAYLOAD, SYN, Segment, decode, offset, wire

MAX_RETRANSMISSIONS = 5


class ReferenceReceiver:
    def __init__(self, window: int) -> None:
        self.window = window
        self.isn: int | None = None
        self.next = 0
        self.held = bytearray()  # the window's bytes from ``next`` on, and which of them arrived
        self.present = bytearray()
        self.fin: int | None = None
        self.delivered = bytearray()

    def on_segment(self, segment: Segment) -> Segment:
        if self.isn is None and segment.flags & SYN:
            self.isn, self.next = segment.seqno, 1
            self.held, self.present = bytearray(self.window), bytearray(self.window)
        elif self.isn is not None and not segment.flags & SYN:
            start = offset(segment.seqno, self.isn)
            for index, byte in enumerate(segment.payload):
                slot = start + index - self.next
                if 0 <= slot < self.window:
                    self.held[slot], self.present[slot] = byte, 1
            if segment.flags & FIN and 0 <= start - self.next < self.window:
                self.fin = start
            ready = self.present.find(0)
            ready = self.window if ready < 0 else ready
            self.delivered += self.held[:ready]
            self.held = self.held[ready:] + bytearray(ready)
            self.present = self.present[ready:] + bytearray(ready)
            self.next += ready
            if self.next == self.fin:
                self.next += 1
        ackno = 0 if self.isn is None else wire(self.next, self.isn)
        return Segment(ackno=ackno, flags=ACK, window=self.window)


class ReferenceSender:
    def __init__(self, data: bytes, isn: int, rto_ms: int) -> None:
        self.data, self.isn = data, isn
        self.initial_rto = self.rto = rto_ms / 1000
        self.fin = len(data) + 1
        self.next, self.right_edge, self.window = 0, 1, 1
        self.outstanding: deque[tuple[int, Segment]] = deque()
        self.deadline: float | None = None
        self.retransmissions = 0
        self.done = self.gave_up = False

    def new_segments(self, now: float) -> list[Segment]:
        edge = self.right_edge if self.window else self.right_edge + 1
        sent = []
        while self.next <= self.fin:
            seqno = wire(self.next, self.isn)
            if self.next == 0:
                segment = Segment(seqno, flags=SYN)
            elif self.next == self.fin:
                segment = Segment(seqno, flags=FIN)
            else:
                length = min(MAX_PAYLOAD, self.fin - self.next, edge - self.next)
                segment = Segment(seqno, payload=self.data[self.next - 1 : self.next - 1 + max(length, 0)])
            if self.next + segment.length > edge or segment.length == 0:
                break
            self.outstanding.append((self.next, segment))
            self.next += segment.length
            sent.append(segment)
            if self.deadline is None:
                self.deadline = now + self.rto
        return sent

    def on_ack(self, segment: Segment, now: float) -> None:
        ack = offset(segment.ackno, self.isn)
        oldest = self.outstanding[0][0] if self.outstanding else self.next
        if not segment.flags & ACK or not oldest <= ack <= self.next:
            return
        self.right_edge, self.window = ack + segment.window, segment.window
        acknowledged = False
        while self.outstanding and self.outstanding[0][0] + self.outstanding[0][1].length <= ack:
            self.outstanding.popleft()
            acknowledged = True
        if acknowledged:
            self.rto, self.retransmissions = self.initial_rto, 0
            self.deadline = now + self.rto if self.outstanding else None
        self.done = ack == self.fin + 1

    def on_timer(self, now: float) -> Segment | None:
        if self.retransmissions == MAX_RETRANSMISSIONS:
            self.gave_up = True
            return None
        if self.window:
            self.rto *= 2
            self.retransmissions += 1
        self.deadline = now + self.rto
        return self.outstanding[0][1]


def _serve(sock: socket.socket, receiver: ReferenceReceiver, stop: threading.Event) -> None:
    while not stop.is_set():
        if select.select([sock], [], [], 0.01)[0]:  # a short wait: the check goes on once ``stop`` is set
            datagram, source = sock.recvfrom(65535)
            if (segment := decode(datagram)) is not None:
                sock.sendto(receiver.on_segment(segment).encode(), source)


def _send(sock: socket.socket, sender: ReferenceSender, peer: tuple[str, int], until: float) -> None:
    while not (sender.done or sender.gave_up) and time.monotonic() < until:
        now = time.monotonic()
        for segment in sender.new_segments(now):
            sock.sendto(segment.encode(), peer)
        expired = sender.deadline is not None and now >= sender.deadline
        if expired and (again := sender.on_timer(now)) is not None:
            sock.sendto(again.encode(), peer)
        wait = 0.05 if sender.deadline is None else min(0.05, max(0.0, sender.deadline - time.monotonic()))
        if select.select([sock], [], [], wait)[0]:
            datagram, _ = sock.recvfrom(65535)
            if (ack := decode(datagram)) is not None:
                sender.on_ack(ack, time.monotonic())


def reference_transfer(data: bytes, *, isn: int, seed: int, link: Link) -> tuple[bytes, float | None]:
    """What the reference delivered over ``link`` and the time from its SYN to the FIN's acknowledgement as the
    proxy saw them (None if it did not finish within the link's timeout)."""
    receiver = ReferenceReceiver(link.window)
    stop = threading.Event()
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client,
    ):
        server.bind(("127.0.0.1", 0))
        serving = threading.Thread(target=_serve, args=(server, receiver, stop), name="reference receiver")
        serving.start()
        try:
            with UdpProxy(
                server.getsockname(), seed=seed, to_server=link.to_receiver, to_client=link.to_sender,
                label="reference link",
            ) as proxy:  # fmt: skip
                sender = ReferenceSender(data, isn, link.rto_ms)
                _send(client, sender, proxy.address, time.monotonic() + link.timeout)
        finally:
            stop.set()
            serving.join(5.0)
    return bytes(receiver.delivered), fin_acknowledged_after(proxy.records(), isn, len(data)) if sender.done else None
