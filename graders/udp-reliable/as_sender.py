"""The grader as the sender, following the README to the letter, so the learner's receiver is judged on its own.

Everything is in offsets from the ISN (see :mod:`segments`); what the receiver wrote is read from its stdout.
"""

from __future__ import annotations

import socket

from labkit.checks import fail, log
from labkit.learners import LearnerProcess
from segments import FIN, SYN, Segment, decode, offset, receiver_segment_problem, wire


class ReceiverUnderTest:
    """The grader as the sender, against the learner's receiver started with ``window``."""

    def __init__(self, receiver: LearnerProcess, *, isn: int, window: int) -> None:
        self.receiver, self.isn, self.window = receiver, isn, window
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(("127.0.0.1", receiver.port or 0))
        log(f"your receiver: WINDOW={window}; the grader plays the sender with ISN={isn}")

    def __enter__(self) -> ReceiverUnderTest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send(self, segment: Segment, note: str = "") -> None:
        self.sock.send(segment.encode())
        log(f"→ {segment.describe(self.isn)}{note}")

    def send_raw(self, datagram: bytes, note: str) -> None:
        self.sock.send(datagram)
        log(f"→ {len(datagram)} bytes: {note}")

    def syn(self) -> None:
        self.send(Segment(seqno=wire(0, self.isn), flags=SYN))

    def data(self, start: int, payload: bytes, note: str = "") -> None:
        """Sends ``payload`` as the stream's bytes from offset ``start`` (byte i of the stream is offset i + 1)."""
        self.send(Segment(seqno=wire(start, self.isn), payload=payload), note)

    def fin(self, position: int) -> None:
        self.send(Segment(seqno=wire(position, self.isn), flags=FIN))

    def reply(self, what: str, within: float = 2.0) -> Segment | None:
        self.sock.settimeout(within)
        try:
            datagram = self.sock.recv(65535)
        except TimeoutError:
            return None
        except ConnectionRefusedError:
            fail(f"your receiver was gone when the grader waited for {what}", hint="keep running until stopped")
        segment = decode(datagram)
        if segment is None:
            fail(f"your receiver sent an invalid datagram as {what}", got=datagram[:32].hex(" "))
        log(f"← {segment.describe(self.isn)}")
        if problem := receiver_segment_problem(segment, self.window):
            fail(f"your receiver sent a malformed acknowledgement: {problem}", got=segment.describe(self.isn))
        return segment

    def reply_elsewhere(self, segment: Segment, within: float = 2.0) -> Segment | None:
        """Sends ``segment`` from a second socket; the valid reply that reaches that socket, if any."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
            other.connect(("127.0.0.1", self.receiver.port or 0))
            other.send(segment.encode())
            log(f"→ {segment.describe(self.isn)} (from another address)")
            other.settimeout(within)
            try:
                return decode(other.recv(65535))
            except (TimeoutError, ConnectionRefusedError):
                return None

    def expect_ack(self, position: int, what: str, hint: str, within: float = 2.0) -> None:
        """One acknowledgement, whose ackno must be offset ``position``."""
        segment = self.reply(what, within)
        if segment is None:
            fail(
                f"your receiver did not answer {what} within {within:g} s",
                expected=f"an acknowledgement with ackno ISN+{position}",
                got="no datagram",
                hint="answer every valid datagram with exactly one acknowledgement, to the address it came from",
            )
        got = offset(segment.ackno, self.isn)
        if got != position:
            fail(
                f"your receiver's acknowledgement of {what} has the wrong ackno",
                expected=f"ackno {wire(position, self.isn)} (ISN+{position})",
                got=f"ackno {segment.ackno} (ISN+{got})",
                hint=hint,
            )

    def expect_silence(self, what: str, within: float = 0.3) -> None:
        segment = self.reply(what, within)
        if segment is not None:
            fail(
                f"your receiver answered {what}",
                expected="no answer: an invalid datagram is ignored completely",
                got=segment.describe(self.isn),
                hint="check the length (at least 16 bytes) and the CRC-32 before reading any field",
            )

    def delivered(self) -> bytes:
        return self.receiver.stdout_path.read_bytes()

    def expect_delivered(self, expected: bytes, when: str) -> None:
        got = self.delivered()
        if got == expected:
            return
        fail(
            f"your receiver's standard output is wrong {when}",
            expected=f"the first {len(expected)} bytes of the stream, each once, in order",
            got=describe_output(expected, got),
            hint="write only bytes that are in order, each once, and flush before sending the acknowledgement "
            "that covers them",
        )


def describe_output(expected: bytes, got: bytes) -> str:
    """How ``got`` departs from ``expected``, in words."""
    first = next((i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b), None)
    if first is None:
        first = min(len(expected), len(got))
    return f"{len(got)} bytes, differing from the stream from byte {first} on"
