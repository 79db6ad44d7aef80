"""Stage 6: sequence space. Numbers wrap modulo 2**32; an ackno of bytes never sent acknowledges nothing."""

from collections.abc import Callable
from functools import partial

from as_receiver import SenderUnderTest
from fell_behind import judged_in_attempts
from labkit.checks import concurrently, fail
from labkit.tools.udpproxy import UdpFaults
from link import Link, Transfer
from segments import FIN, MOD, decode

SHUFFLED = UdpFaults(reorder=0.2, duplicate=0.2)
UNSENT_HINT = (
    "an ackno beyond the next sequence number you would send acknowledges nothing: ignore the whole datagram, "
    "its window too (compare offsets from ISN, not raw 32-bit numbers)"
)


def expect_fin_on_the_wire(done: Transfer) -> None:
    expected = (done.isn + 1 + len(done.data)) % MOD
    for record in done.records:
        segment = decode(record.data)
        if record.direction == "to_server" and segment and segment.flags == FIN and segment.seqno != expected:
            fail(
                "your sender's FIN has the wrong sequence number after the wrap",
                expected=f"seqno {expected} = (ISN + 1 + {len(done.data)}) mod 2**32",
                got=f"seqno {segment.seqno}",
                hint="add modulo 2**32 on the way to the wire",
            )


def check_streams_across_the_wrap_arrive_intact(transfer, stream, rng):
    """With ISN 2**32 - 1 and just below 2**32, on a reordering link, the stream arrives intact"""
    link = Link(to_receiver=SHUFFLED, to_sender=SHUFFLED)
    probes = {}
    for isn, size in ((MOD - 1, rng.randrange(10_000, 15_000)), (MOD - rng.randrange(2, 15_000), 20_000)):
        run = transfer.plan(stream(size), link=link, isn=isn, label=f"ISN={isn}")
        probes[f"ISN={isn}"] = partial(expect_intact_across_the_wrap, run, isn)
    concurrently(probes)  # two pairs of programs, each with its own proxy, at once


def expect_intact_across_the_wrap(run: Callable[[], Transfer], isn: int) -> None:
    done = run()
    done.expect_intact(f"a reordering link with ISN={isn} (sequence numbers wrap to 0)")
    expect_fin_on_the_wire(done)


def check_an_ack_of_unsent_data_is_ignored(sender_alone, stream):
    """An ackno past what was sent, even the FIN's own ack, acknowledges nothing and opens no window"""
    data = stream(5000)
    judged_in_attempts(lambda: sender_alone(data, rto_ms=50), expect_unsent_acks_ignored)


def expect_unsent_acks_ignored(sender: SenderUnderTest) -> None:
    sender.handshake(2000)
    sender.segments_until(2001, "the first window (2000 bytes)")
    sender.answer(sender.fin + 1, 10_000)  # the FIN's ack, before the FIN was sent
    sender.expect_segment(
        "a retransmission of ISN+1 (the ack of the unsent FIN acknowledged nothing)",
        1,
        within=2.0,
        hint=UNSENT_HINT,
    )
    sender.answer(2002, 10_000)  # one past the last number sent
    sender.expect_segment(
        "another retransmission of ISN+1 (the ack of unsent bytes acknowledged nothing)",
        1,
        within=2.0,
        hint=UNSENT_HINT,
    )
    sender.ack(2001, 10_000)
    sender.segments_until(sender.fin + 1, "the rest of the stream")
    sender.ack(sender.fin + 1, 10_000)
    sender.finish().expect_exit(0)


OLD_HINT = (
    "an ackno below the oldest outstanding sequence number is an old acknowledgement: ignore the whole datagram, "
    "its window too"
)


def check_an_old_ack_is_ignored(sender_alone, stream):
    """An ackno below the oldest outstanding number (the SYN's, or one less) acknowledges nothing and opens no window"""
    data = stream(5000)
    judged_in_attempts(lambda: sender_alone(data, rto_ms=50), expect_old_acks_ignored)


def expect_old_acks_ignored(sender: SenderUnderTest) -> None:
    sender.handshake(2000)
    first, *_ = sender.segments_until(2001, "the first window (2000 bytes)")
    sender.answer(first.end, 2001 - first.end)  # the first segment acknowledged, the right edge kept at ISN+2001
    for old in (1, first.end - 1):
        sender.answer(old, 10_000)
    sender.expect_segment(
        f"a retransmission of ISN+{first.end} (the old acknowledgements opened no window)",
        first.end,
        within=2.0,
        hint=OLD_HINT,
    )
    sender.ack(2001, 10_000)
    sender.segments_until(sender.fin + 1, "the rest of the stream")
    sender.ack(sender.fin + 1, 10_000)
    sender.finish().expect_exit(0)
