"""udp-reliable: one program, two roles (see README.md).

    PORT=7070 WINDOW=8000 python3 transport.py receive > received.bin
    ISN=4000000000 RTO_MS=200 python3 transport.py send 127.0.0.1 7070 < some-file

Both roles work in *absolute* sequence numbers: 0 is the SYN, 1 + i the stream's byte i, N + 1 the FIN. They are
turned into 32-bit numbers (plus ISN, modulo 2**32) only on the wire.
"""

import os
import select
import socket
import struct
import sys
import time
import zlib
from collections import deque
from dataclasses import dataclass

HEADER = struct.Struct(">IIBBHI")  # seqno, ackno, flags, reserved, window, checksum: 16 bytes
SYN, ACK, FIN = 0x01, 0x02, 0x04
MAX_PAYLOAD = 1000
MAX_RETRANSMISSIONS = 5
LINGER_S = 1.0
MOD = 2**32


@dataclass(frozen=True)
class Segment:
    seqno: int = 0
    ackno: int = 0
    flags: int = 0
    window: int = 0
    payload: bytes = b""

    def encode(self) -> bytes:
        head = HEADER.pack(self.seqno, self.ackno, self.flags, 0, self.window, 0)
        checksum = zlib.crc32(head + self.payload)
        return HEADER.pack(self.seqno, self.ackno, self.flags, 0, self.window, checksum) + self.payload

    @property
    def length(self) -> int:
        """Its length in sequence space."""
        return len(self.payload) + (1 if self.flags & (SYN | FIN) else 0)


def decode(datagram: bytes) -> Segment | None:
    """The segment, or None when the datagram is invalid (too short, or a checksum that does not match)."""
    if len(datagram) < HEADER.size:
        return None
    seqno, ackno, flags, _, window, checksum = HEADER.unpack_from(datagram)
    if zlib.crc32(datagram[:12] + b"\0\0\0\0" + datagram[16:]) != checksum:
        return None
    return Segment(seqno, ackno, flags, window, datagram[HEADER.size :])


class Receiver:
    def __init__(self, window: int, out) -> None:  # type: ignore[no-untyped-def]
        self.window = window
        self.out = out
        self.isn: int | None = None
        self.next = 0  # absolute: the next sequence number expected
        self.pending: dict[int, bytes] = {}  # absolute start -> bytes that arrived after a gap
        self.fin: int | None = None
        self.complete = False

    def ackno(self) -> int:
        return 0 if self.isn is None else (self.isn + self.next) % MOD

    def on_segment(self, segment: Segment) -> Segment:
        if self.isn is None:
            if segment.flags & SYN:
                self.isn, self.next = segment.seqno, 1
        elif not segment.flags & SYN:
            start = (segment.seqno - self.isn) % MOD
            edge = self.next + self.window
            if segment.payload:
                self.keep(start, segment.payload, edge)
            if segment.flags & FIN and self.next <= start < edge:
                self.fin = start
            self.deliver()
        return Segment(ackno=self.ackno(), flags=ACK, window=self.window)

    def keep(self, start: int, payload: bytes, edge: int) -> None:
        begin, end = max(start, self.next), min(start + len(payload), edge)
        if begin < end:
            piece = payload[begin - start : end - start]
            if len(piece) > len(self.pending.get(begin, b"")):
                self.pending[begin] = piece

    def deliver(self) -> None:
        written = bytearray()
        progress = True
        while progress:
            progress = False
            for start in sorted(self.pending):
                piece = self.pending[start]
                if start + len(piece) <= self.next:
                    del self.pending[start]
                elif start <= self.next:
                    del self.pending[start]
                    fresh = piece[self.next - start :]
                    written += fresh
                    self.next += len(fresh)
                    progress = True
        if written:
            self.out.write(written)
            self.out.flush()
        if self.fin is not None and self.next == self.fin:
            self.next += 1
            self.complete = True


def receive(port: int, window: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    receiver = Receiver(window, sys.stdout.buffer)
    while True:
        timeout = LINGER_S if receiver.complete else None
        if not select.select([sock], [], [], timeout)[0]:
            return  # the FIN was acknowledged and nothing arrived for LINGER_S seconds
        datagram, source = sock.recvfrom(65535)
        segment = decode(datagram)
        if segment is not None:
            sock.sendto(receiver.on_segment(segment).encode(), source)


class Sender:
    def __init__(self, data: bytes, isn: int, rto_ms: int) -> None:
        self.data, self.isn = data, isn
        self.initial_rto = self.rto = rto_ms / 1000
        self.fin = len(data) + 1  # absolute sequence number of the FIN
        self.next = 0  # absolute: the next sequence number to send
        self.right_edge = 1  # until the SYN is acknowledged, the SYN only
        self.window = 1  # before the SYN is acknowledged the window counts as not zero
        self.outstanding: deque[tuple[int, Segment]] = deque()
        self.deadline: float | None = None
        self.retransmissions = 0
        self.done = False

    def segment_at(self, start: int, edge: int) -> Segment | None:
        """The next new segment starting at ``start`` that fits before ``edge``, if any."""
        seqno = (self.isn + start) % MOD
        if start == 0:
            return Segment(seqno, flags=SYN) if edge >= 1 else None
        if start == self.fin:
            return Segment(seqno, flags=FIN) if edge >= self.fin + 1 else None
        length = min(MAX_PAYLOAD, self.fin - start, edge - start)
        return Segment(seqno, payload=self.data[start - 1 : start - 1 + length]) if length > 0 else None

    def new_segments(self, now: float) -> list[Segment]:
        edge = self.right_edge if self.window else self.right_edge + 1  # a zero window counts as one
        sent = []
        while self.next <= self.fin:
            segment = self.segment_at(self.next, edge)
            if segment is None:
                break
            self.outstanding.append((self.next, segment))
            self.next += segment.length
            sent.append(segment)
            if self.deadline is None:
                self.deadline = now + self.rto
        return sent

    def on_ack(self, segment: Segment, now: float) -> None:
        if not segment.flags & ACK:
            return
        ack = (segment.ackno - self.isn) % MOD
        oldest = self.outstanding[0][0] if self.outstanding else self.next
        if not oldest <= ack <= self.next:
            return  # old, or of sequence numbers never sent
        self.right_edge, self.window = ack + segment.window, segment.window
        acknowledged = False
        while self.outstanding and self.outstanding[0][0] < ack:
            self.outstanding.popleft()
            acknowledged = True
        if acknowledged:
            self.rto, self.retransmissions = self.initial_rto, 0
            self.deadline = now + self.rto if self.outstanding else None
        self.done = ack == self.fin + 1

    def on_timer(self, now: float) -> Segment | None:
        """The segment to retransmit, or None when the sender gives up."""
        if self.retransmissions == MAX_RETRANSMISSIONS:
            return None
        if self.window:
            self.rto *= 2
            self.retransmissions += 1
        self.deadline = now + self.rto
        return self.outstanding[0][1]


def send(host: str, port: int, isn: int, rto_ms: int) -> None:
    sender = Sender(sys.stdin.buffer.read(), isn, rto_ms)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer = (host, port)
    while not sender.done:
        now = time.monotonic()
        for segment in sender.new_segments(now):
            sock.sendto(segment.encode(), peer)
        if sender.deadline is not None and now >= sender.deadline:
            retransmit = sender.on_timer(now)
            if retransmit is None:
                sys.exit(f"giving up: no acknowledgement after {MAX_RETRANSMISSIONS} retransmissions")
            sock.sendto(retransmit.encode(), peer)
        wait = None if sender.deadline is None else max(0.0, sender.deadline - time.monotonic())
        if select.select([sock], [], [], wait)[0]:
            datagram, source = sock.recvfrom(65535)
            segment = decode(datagram)
            if segment is not None and source == peer:
                sender.on_ack(segment, time.monotonic())


def main() -> None:
    if sys.argv[1:2] == ["receive"]:
        receive(int(os.environ["PORT"]), int(os.environ["WINDOW"]))
    elif sys.argv[1:2] == ["send"] and len(sys.argv) == 4:
        send(sys.argv[2], int(sys.argv[3]), int(os.environ["ISN"]), int(os.environ["RTO_MS"]))
    else:
        sys.exit("usage: transport.py receive | transport.py send HOST PORT")


if __name__ == "__main__":
    main()
