"""udp-reliable, another design: asyncio datagram endpoints, loop timers (call_later) instead of a select loop,
a sender that keeps TCP-style pointers into one send buffer instead of segment objects, and a receiver that
reassembles into a ring buffer with a presence map instead of a dictionary of pieces.
"""

import asyncio
import os
import struct
import sys
import zlib
from collections import deque

HEADER = struct.Struct(">IIBBHI")
SYN, ACK, FIN = 0x01, 0x02, 0x04
MSS = 1000
GIVE_UP_AFTER = 5
LINGER_S = 1.0


def pack(seqno: int, ackno: int, flags: int, window: int, payload: bytes = b"") -> bytes:
    body = HEADER.pack(seqno, ackno, flags, 0, window, 0) + payload
    return body[:12] + zlib.crc32(body).to_bytes(4, "big") + body[16:]


def unpack(datagram: bytes) -> tuple[int, int, int, int, bytes] | None:
    if len(datagram) < 16:
        return None
    seqno, ackno, flags, _, window, checksum = HEADER.unpack_from(datagram)
    if zlib.crc32(datagram[:12] + bytes(4) + datagram[16:]) != checksum:
        return None
    return seqno, ackno, flags, window, datagram[16:]


class Ring:
    """The receiver's window: slot i holds the byte at absolute position base + i."""

    def __init__(self, size: int) -> None:
        self.size, self.base = size, 0
        self.bytes, self.present = bytearray(size), bytearray(size)

    def put(self, position: int, payload: bytes) -> None:
        for index in range(max(0, self.base - position), min(len(payload), self.base + self.size - position)):
            slot = (position + index) % self.size
            self.bytes[slot], self.present[slot] = payload[index], 1

    def take(self) -> bytes:
        out = bytearray()
        while len(out) < self.size and self.present[(self.base + len(out)) % self.size]:
            out.append(self.bytes[(self.base + len(out)) % self.size])
        for position in range(self.base, self.base + len(out)):
            self.present[position % self.size] = 0
        self.base += len(out)
        return bytes(out)


class ReceiverProtocol(asyncio.DatagramProtocol):
    def __init__(self, window: int, finished: asyncio.Future[None]) -> None:
        self.window, self.finished = window, finished
        self.isn: int | None = None
        self.ring = Ring(window)  # ring.base + 1 is the absolute ackno once the SYN is in
        self.fin_at: int | None = None
        self.closed = False
        self.linger: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        fields = unpack(data)
        if fields is None:
            return
        seqno, _, flags, _, payload = fields
        if self.isn is None and flags & SYN:
            self.isn = seqno
        elif self.isn is not None and not flags & SYN and not self.closed:
            position = (seqno - self.isn - 1) % 2**32  # the stream offset of its first byte (FIN: the length)
            self.ring.put(position, payload)
            if flags & FIN and self.ring.base <= position < self.ring.base + self.window:
                self.fin_at = position
            delivered = self.ring.take()
            if delivered:
                sys.stdout.buffer.write(delivered)
                sys.stdout.buffer.flush()
            self.closed = self.fin_at == self.ring.base
        ackno = 0 if self.isn is None else (self.isn + 1 + self.ring.base + self.closed) % 2**32
        self.transport.sendto(pack(0, ackno, ACK, self.window), addr)  # type: ignore[attr-defined]
        if self.closed:
            if self.linger:
                self.linger.cancel()
            self.linger = asyncio.get_running_loop().call_later(LINGER_S, self.finished.set_result, None)


class SenderProtocol(asyncio.DatagramProtocol):
    """Absolute positions: 0 the SYN, 1..N the bytes, N + 1 the FIN."""

    def __init__(self, data: bytes, isn: int, rto_ms: int, done: asyncio.Future[int]) -> None:
        self.data, self.isn, self.done = data, isn, done
        self.fin = len(data) + 1
        self.una = self.nxt = 0  # oldest unacknowledged, next new
        self.ends: deque[int] = deque()  # where each outstanding segment ends, oldest first
        self.edge, self.window = 1, 1
        self.base_rto = self.rto = rto_ms / 1000
        self.tries = 0
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.pump()

    def wire(self, start: int, end: int) -> bytes:
        seqno = (self.isn + start) % 2**32
        if start == 0:
            return pack(seqno, 0, SYN, 0)
        if start == self.fin:
            return pack(seqno, 0, FIN, 0)
        return pack(seqno, 0, 0, 0, self.data[start - 1 : end - 1])

    def pump(self) -> None:
        limit = self.edge if self.window else self.edge + 1  # a zero window counts as one
        while self.nxt <= self.fin:
            flag_only = self.nxt in (0, self.fin)  # a SYN or a FIN takes one sequence number
            end = self.nxt + 1 if flag_only else min(self.nxt + MSS, self.fin, limit)
            if end > limit or end <= self.nxt:
                return
            self.transport.sendto(self.wire(self.nxt, end))  # type: ignore[attr-defined]
            self.ends.append(end)
            self.nxt = end
            if self.timer is None:
                self.arm()

    def arm(self) -> None:
        if self.timer:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(self.rto, self.expired)

    def expired(self) -> None:
        self.timer = None
        if self.tries == GIVE_UP_AFTER:
            self.done.set_result(1)
            return
        self.transport.sendto(self.wire(self.una, self.ends[0]))  # type: ignore[attr-defined]
        if self.window:
            self.rto, self.tries = self.rto * 2, self.tries + 1
        self.arm()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        fields = unpack(data)
        if fields is None or not fields[2] & ACK or self.done.done():
            return
        ack = (fields[1] - self.isn) % 2**32
        if not self.una <= ack <= self.nxt:
            return
        self.edge, self.window = ack + fields[3], fields[3]
        if self.ends and self.ends[0] <= ack:
            while self.ends and self.ends[0] <= ack:
                self.una = self.ends.popleft()
            self.rto, self.tries = self.base_rto, 0
            if self.ends:
                self.arm()
            elif self.timer:
                self.timer.cancel()
                self.timer = None
        if ack == self.fin + 1:
            if self.timer:
                self.timer.cancel()
            self.done.set_result(0)
            return
        self.pump()


async def receive(port: int, window: int) -> None:
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: ReceiverProtocol(window, finished), local_addr=("127.0.0.1", port)
    )
    try:
        await finished
    finally:
        transport.close()


async def send(host: str, port: int, isn: int, rto_ms: int) -> int:
    data = sys.stdin.buffer.read()
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: SenderProtocol(data, isn, rto_ms, done), remote_addr=(host, port)
    )
    try:
        return await done
    finally:
        transport.close()


def main() -> None:
    if sys.argv[1:2] == ["receive"]:
        asyncio.run(receive(int(os.environ["PORT"]), int(os.environ["WINDOW"])))
    elif sys.argv[1:2] == ["send"] and len(sys.argv) == 4:
        code = asyncio.run(send(sys.argv[2], int(sys.argv[3]), int(os.environ["ISN"]), int(os.environ["RTO_MS"])))
        if code:
            sys.exit("gave up: the receiver stopped answering")
    else:
        sys.exit("usage: transport.py receive | transport.py send HOST PORT")


if __name__ == "__main__":
    main()
