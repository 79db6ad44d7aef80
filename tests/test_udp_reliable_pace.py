"""udp-reliable's grader judges a sender only from attempts in which it kept pace with the sender's timer.

The grader's helpers against a sender played by this test over loopback: an answer that comes after the sender's
timer could have expired, with the sender's retransmission already in, voids the attempt; one that comes in time
leaves what arrived to be judged; three voided attempts are a harness error, never the learner's failure.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from types import ModuleType

import pytest

from labkit.client import ClientResult
from labkit.errors import CheckFailed, HarnessError
from support import KIT

GRADER = KIT / "graders" / "udp-reliable"
HELPERS = ("as_receiver", "as_sender", "fell_behind", "link", "segments")
ISN = 1000
DATA = bytes(range(250)) * 8  # 2000 bytes: two segments, then the FIN at ISN+2001


@pytest.fixture(scope="module")
def grader() -> Iterator[tuple[ModuleType, ModuleType, ModuleType]]:
    """The lab's helper modules, imported as its stages import them, and forgotten afterwards."""
    sys.path.insert(0, str(GRADER))
    try:
        import as_receiver
        import fell_behind
        import segments

        yield as_receiver, fell_behind, segments
    finally:
        sys.path.remove(str(GRADER))
        for name in HELPERS:
            sys.modules.pop(name, None)


def idle_sender(*, args: list[str], env: dict[str, str], stdin: bytes, timeout: float) -> ClientResult:
    """Stands in for the learner's program: this test sends its datagrams itself."""
    return ClientResult(tuple(args), 0, b"", "", 0.0, False, False, timeout, 8)


class ScriptedSender:
    """The sender's datagrams, sent by hand to the grader's socket."""

    def __init__(self, segments: ModuleType, grader_address: tuple[str, int]) -> None:
        self.segments, self.address = segments, grader_address
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(self, start: int, payload: bytes = b"", flags: int = 0) -> None:
        segment = self.segments.Segment(seqno=self.segments.wire(start, ISN), flags=flags, payload=payload)
        self.sock.sendto(segment.encode(), self.address)

    def whole_stream(self) -> None:
        self.send(1, DATA[:1000])
        self.send(1001, DATA[1000:])
        self.send(2001, flags=self.segments.FIN)


def handshake_and_stream(modules: tuple[ModuleType, ...], rto_ms: int) -> tuple[object, ScriptedSender]:
    as_receiver, _, segments = modules
    grader_side = as_receiver.SenderUnderTest(idle_sender, DATA, isn=ISN, rto_ms=rto_ms)
    scripted = ScriptedSender(segments, grader_side.sock.getsockname())
    scripted.send(0, flags=segments.SYN)
    grader_side.handshake(10_000)
    scripted.whole_stream()
    grader_side.segments_until(grader_side.fin + 1, "the whole stream and the FIN")
    return grader_side, scripted


def test_an_answer_after_the_timer_could_expire_with_a_retransmission_in_voids_the_attempt(
    grader: tuple[ModuleType, ModuleType, ModuleType],
) -> None:
    as_receiver = grader[0]
    sender, scripted = handshake_and_stream(grader, rto_ms=5)
    with sender, scripted.sock:
        sender.confirm_grader_on_time()  # nothing came since the FIN: whenever it answers, nothing was missed
        time.sleep(0.05)  # ten times RTO_MS: the grader has fallen behind
        scripted.send(1, DATA[:1000])  # the timer's retransmission, in before the grader's answer
        with pytest.raises(as_receiver.GraderFellBehind, match="timer could have expired"):
            sender.answer(2001, 10_000)
        assert sender.sent_acks[-1][1] == 1  # the answer was not sent: only the SYN's acknowledgement


def test_what_the_sender_sent_before_its_timer_could_expire_is_judged(
    grader: tuple[ModuleType, ModuleType, ModuleType],
) -> None:
    sender, scripted = handshake_and_stream(grader, rto_ms=2000)
    with sender, scripted.sock:
        scripted.send(1, DATA[:1000])  # far too soon for a timer of 2 s: the sender's own doing
        sender.answer(2001, 10_000)
        assert sender.sent_acks[-1][1] == 2001
        early = sender.receive(0.0)  # read before the answer, it is still the next segment to judge
        assert early is not None and early.start == 1
        assert sender.receive(0.05) is None


def test_three_voided_attempts_are_a_harness_error(grader: tuple[ModuleType, ModuleType, ModuleType]) -> None:
    as_receiver, fell_behind, _ = grader
    started: list[object] = []

    def start() -> object:
        started.append(as_receiver.SenderUnderTest(idle_sender, DATA, isn=ISN, rto_ms=50))
        return started[-1]

    def always_behind(sender: object) -> None:
        raise as_receiver.GraderFellBehind("a stall of the grader's loop")

    with pytest.raises(HarnessError, match="grader itself was too slow") as raised:
        fell_behind.judged_in_attempts(start, always_behind)
    assert not isinstance(raised.value, CheckFailed)
    assert len(started) == fell_behind.ATTEMPTS == 3


def test_an_attempt_judged_on_time_ends_the_retries(grader: tuple[ModuleType, ModuleType, ModuleType]) -> None:
    as_receiver, fell_behind, _ = grader
    outcomes = iter(["behind", "failed"])
    started = threading.Semaphore(0)

    def start() -> object:
        started.release()
        return as_receiver.SenderUnderTest(idle_sender, DATA, isn=ISN, rto_ms=50)

    def judge(sender: object) -> None:
        if next(outcomes) == "behind":
            raise as_receiver.GraderFellBehind("a stall of the grader's loop")
        raise CheckFailed("the sender's own fault")  # judged: never retried

    with pytest.raises(CheckFailed, match="own fault"):
        fell_behind.judged_in_attempts(start, judge)
    assert [started.acquire(blocking=False) for _ in range(3)] == [True, True, False]


def test_longest_silence(grader: tuple[ModuleType, ModuleType, ModuleType]) -> None:
    fell_behind = grader[1]
    assert fell_behind.longest_silence([1.0, 1.02, 1.15, 1.17]) == pytest.approx(0.13)
    assert fell_behind.longest_silence([1.0]) == 0.0


def test_a_segment_other_than_the_timers_retransmission_is_judged_however_late(
    grader: tuple[ModuleType, ModuleType, ModuleType],
) -> None:
    sender, scripted = handshake_and_stream(grader, rto_ms=5)
    with sender, scripted.sock:
        time.sleep(0.05)
        scripted.send(1001, DATA[1000:])  # not the earliest outstanding segment: no timer sends it first
        sender.answer(2001, 10_000)
        assert sender.sent_acks[-1][1] == 2001
        later = sender.receive(0.0)
        assert later is not None and later.start == 1001
