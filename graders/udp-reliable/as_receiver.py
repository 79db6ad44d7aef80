"""The grader as the receiver, following the README to the letter, so the learner's sender is judged on its own.

The learner's sender runs in the background (the ``client`` role, to completion) and sends to the grader, which
answers step by step. Everything is in offsets from the ISN (see :mod:`segments`).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from dataclasses import dataclass

from labkit.checks import fail, log
from labkit.learners import ClientResult
from link import RunClient
from segments import ACK, FIN, SYN, Segment, decode, offset, sender_segment_problem, wire


@dataclass(frozen=True)
class Arrival:
    at: float  # time.monotonic() when the grader read it
    segment: Segment
    start: int  # the segment's seqno as an offset from the ISN

    @property
    def end(self) -> int:
        """The offset just past the sequence numbers it covers."""
        return self.start + self.segment.length

    @property
    def kind(self) -> str:
        return "SYN" if self.segment.flags & SYN else "FIN" if self.segment.flags & FIN else "data"


class GraderFellBehind(Exception):
    """The grader acted too late for this attempt to prove anything about the sender (see fell_behind)."""


class SenderUnderTest:
    """The learner's sender, sending ``data`` to the grader; use it as a context manager."""

    def __init__(self, run_client: RunClient, data: bytes, *, isn: int, rto_ms: int, timeout: float = 20.0) -> None:
        self.data, self.isn, self.rto_ms = data, isn, rto_ms
        self.fin = len(data) + 1  # the FIN's offset
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.arrivals: list[Arrival] = []
        # (time, ackno offset, window) of every ack sent; the time is taken just before sending: the sender cannot
        # act on an ack sooner, so a lower bound timed from it holds however late the grader runs
        self.sent_acks: list[tuple[float, int, int]] = []
        self._acked = 0  # the highest ackno sent that a correct sender accepts (of data it sent)
        self._progress_at = 0.0  # when the grader sent it
        self._waiting: deque[Arrival] = deque()  # read by answer() before their turn
        self._address: tuple[str, int] | None = None
        self.started_at = time.monotonic()  # before the process starts: it cannot send anything sooner
        # When the grader last began a wait in which nothing arrived: whatever arrives next was sent after it
        self.silent_since = self.started_at
        self.exited_at = 0.0
        self._result: ClientResult | None = None
        self._timeout = timeout
        args = ["send", "127.0.0.1", str(self.sock.getsockname()[1])]
        env = {"ISN": str(isn), "RTO_MS": str(rto_ms)}
        self.thread = threading.Thread(target=self._run, args=(run_client, args, env), daemon=True)
        log(f"your sender: ISN={isn} RTO_MS={rto_ms}, {len(data)} bytes on stdin; the grader plays the receiver")
        self.thread.start()

    def _run(self, run_client: RunClient, args: list[str], env: dict[str, str]) -> None:
        result = run_client(args=args, env=env, stdin=self.data, timeout=self._timeout)
        self.exited_at = time.monotonic()  # the grader saw the exit by then: never earlier than the real one
        self._result = result

    def __enter__(self) -> SenderUnderTest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    @property
    def exited(self) -> bool:
        return self._result is not None

    def receive(self, within: float) -> Arrival | None:
        """The next segment from the sender, or None if none came within ``within`` seconds."""
        if self._waiting:
            return self._waiting.popleft()
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            asked_at = time.monotonic()
            try:
                arrival = self._read()
            except TimeoutError:
                self.silent_since = asked_at
                return None
            if arrival is not None:
                return arrival
        return None

    def _read(self) -> Arrival | None:
        """One datagram from the socket, judged; None for a SYN sent again before its acknowledgement arrived."""
        datagram, address = self.sock.recvfrom(65535)
        self._address = address
        segment = decode(datagram)
        if segment is None:
            fail(
                f"your sender sent an invalid datagram of {len(datagram)} bytes",
                expected="a 16-byte header whose checksum is the CRC-32 of the datagram (checksum field zeroed)",
                got=datagram[:32].hex(" "),
                hint="compute zlib.crc32 over the whole datagram with bytes 12 to 15 set to zero",
            )
        arrival = Arrival(time.monotonic(), segment, offset(segment.seqno, self.isn))
        log(f"→ {segment.describe(self.isn)}")
        if problem := sender_segment_problem(segment) or self.misplaced(arrival):
            fail(f"your sender sent a wrong segment: {problem}", got=segment.describe(self.isn))
        if arrival.kind == "SYN" and self.sent_acks:
            return None  # sent before the SYN's acknowledgement arrived: nothing to judge
        self.arrivals.append(arrival)
        return arrival

    def misplaced(self, arrival: Arrival) -> str | None:
        """What puts the segment at the wrong place in the stream, if anything."""
        start, payload = arrival.start, arrival.segment.payload
        if arrival.kind == "SYN" and start != 0:
            return f"the SYN's seqno is ISN+{start}, not ISN={self.isn} from the environment"
        if arrival.kind == "FIN" and start != self.fin:
            return f"the FIN's seqno is ISN+{start}; after {len(self.data)} bytes it is ISN+{self.fin}"
        if arrival.kind == "data" and not (start >= 1 and arrival.end <= self.fin):
            return f"bytes at ISN+{start} to ISN+{arrival.end - 1}: the stream's bytes are ISN+1 to ISN+{self.fin - 1}"
        if arrival.kind == "data" and payload != self.data[start - 1 : start - 1 + len(payload)]:
            return f"the payload at ISN+{start} is not the stream's bytes from offset {start - 1} (byte i is ISN+1+i)"
        return None

    def expect(self, what: str, within: float = 3.0, hint: str | None = None) -> Arrival:
        """The next segment, which must come within ``within`` seconds."""
        arrival = self.receive(within)
        if arrival is None:
            ended = f"; your sender {self._result.outcome}" if self._result else ""
            fail(
                f"your sender sent nothing within {within:g} s when the grader waited for {what}{ended}",
                expected=what,
                got="no datagram",
                hint=hint
                or "never wait for the receiver without a timer running: what is outstanding is retransmitted",
            )
        return arrival

    def expect_segment(
        self, what: str, start: int, length: int | None = None, within: float = 3.0, hint: str | None = None
    ) -> Arrival:
        """The next segment, which must start at offset ``start`` (and have ``length``, if given)."""
        arrival = self.expect(what, within, hint)
        if arrival.start != start or (length is not None and arrival.segment.length != length):
            size = "" if length is None else f", {length} long in sequence space"
            fail(
                f"your sender sent the wrong segment when the grader waited for {what}",
                expected=f"seqno ISN+{start}{size}",
                got=arrival.segment.describe(self.isn),
                hint=hint
                or "after a timeout only the earliest outstanding segment is retransmitted; new data follows "
                "the last byte sent",
            )
        return arrival

    def ack(self, position: int, window: int) -> None:
        """Sends an acknowledgement of everything before offset ``position``."""
        sent_at = time.monotonic()
        if self._acked < position <= max((arrival.end for arrival in self.arrivals), default=0):
            self._acked, self._progress_at = position, sent_at  # new data: a correct sender restarts its timer
        self.send(Segment(ackno=wire(position, self.isn), flags=ACK, window=window))
        self.sent_acks.append((sent_at, position, window))

    def answer(self, position: int, window: int) -> None:
        """ack(), for an acknowledgement whose effect the check then judges (see confirm_grader_on_time)."""
        self.confirm_grader_on_time()
        self.ack(position, window)

    def confirm_grader_on_time(self) -> None:
        """Before the grader sends what a check judges the sender's reaction to: the sender has not acted first.

        Whatever the sender sent since the grader last read is read now. If it begins with the earliest outstanding
        segment, and the grader sends after the sender's timer could have expired (RTO_MS after the latest
        acknowledgement of new data), that is the timer's retransmission, come before the grader's answer: the
        attempt proves nothing (GraderFellBehind). Anything else is the sender's own doing, judged as usual.
        """
        self.sock.settimeout(0.0)
        try:
            while True:
                if (arrival := self._read()) is not None:
                    self._waiting.append(arrival)
        except BlockingIOError:
            pass
        late_by = time.monotonic() - (self._progress_at + self.rto_ms / 1000)
        if self._waiting and self._waiting[0].start <= self._acked < self._waiting[0].end and late_by >= 0:
            raise GraderFellBehind(
                f"the grader was about to answer {late_by * 1000:.0f} ms after your sender's timer could have "
                f"expired, and your sender had sent {self._waiting[0].segment.describe(self.isn)} in the meantime"
            )

    def dismiss(self, within: float) -> None:
        """Ends an attempt that is not judged: the FIN acknowledged, the sender given ``within`` s to exit."""
        if self._address is not None:
            self.ack(self.fin + 1, 10_000)
        self.wait_exit(within)

    def send(self, segment: Segment, datagram: bytes | None = None, note: str = "") -> None:
        if self._address is None:
            fail("the grader has nowhere to answer: your sender never sent anything")
        self.sock.sendto(datagram if datagram is not None else segment.encode(), self._address)
        log(f"← {segment.describe(self.isn)}{note}")

    def handshake(self, window: int) -> Arrival:
        syn = self.expect_segment("the SYN", 0, 1)
        expect_flags(syn, SYN, "the first segment")
        self.ack(1, window)
        return syn

    def segments_until(self, end: int, what: str, within: float = 3.0) -> list[Arrival]:
        """Segments until one reaches offset ``end`` (retransmissions included), all within ``within`` seconds: a
        sender that only ever retransmits what is outstanding does not keep the grader waiting for ever."""
        got: list[Arrival] = []
        deadline = time.monotonic() + within
        while not got or got[-1].end < end:
            left = deadline - time.monotonic()
            if got and left <= 0:
                fail(
                    f"your sender did not reach ISN+{end} within {within:g} s when the grader waited for {what}",
                    expected=f"new segments up to ISN+{end} (the window had room for them)",
                    got=f"{len(got)} segments, the last {got[-1].segment.describe(self.isn)}",
                    hint="send new bytes as soon as the window has room: an acceptable acknowledgement sets the "
                    "right edge even when it acknowledges no whole segment",
                )
            got.append(self.expect(what, max(round(left, 1), 0.1) if got else within))
        return got

    def quiet(self, seconds: float) -> list[Arrival]:
        """Every segment that arrives in the next ``seconds`` seconds."""
        deadline = time.monotonic() + seconds
        got = []
        while (arrival := self.receive(deadline - time.monotonic())) is not None:
            got.append(arrival)
        return got

    def finish(self, within: float = 5.0) -> ClientResult:
        """The sender's result once it exits, which it must within ``within`` seconds (or its timeout)."""
        self.thread.join(within)
        if self._result is None:
            fail(
                f"your sender was still running {within:g} s after the grader acknowledged its FIN",
                expected="exit status 0 at once",
                got="still running",
                hint="exit as soon as an acceptable acknowledgement one past the FIN arrives",
            )
        return self._result

    def wait_exit(self, within: float) -> ClientResult | None:
        self.thread.join(within)
        return self._result


def expect_flags(arrival: Arrival, flags: int, what: str) -> None:
    if arrival.segment.flags != flags:
        fail(f"{what} has the wrong flags", expected=f"flags 0x{flags:02x}", got=arrival.segment.describe())
