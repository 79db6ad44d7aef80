"""Stage 8: corrupted datagrams are dropped by both sides, never delivered and never believed."""

from functools import partial

from as_receiver import SenderUnderTest
from fell_behind import judged_in_attempts
from labkit.render import hex_bytes
from labkit.tools.udpproxy import UdpFaults, flip_bit
from link import NEVER_TWO_IN_A_ROW, Link
from segments import ACK, Segment, wire

NOISY = UdpFaults(corrupt=0.1, drop=0.03, max_consecutive_losses=NEVER_TWO_IN_A_ROW)
INVALID_HINT = "verify the length and the CRC-32 before reading any field: an invalid datagram is ignored"
HEADER_BITS = {"seqno": (0, 32), "flags": (64, 72), "checksum": (96, 128)}


def check_corrupting_link_delivers_the_stream_intact(transfer, stream, rng):
    """A link that flips a bit in a tenth of the datagrams each way delivers the stream intact"""
    link = Link(to_receiver=NOISY, to_sender=NOISY, rto_ms=30)  # short enough for the linger (stage_teardown)
    transfer(stream(rng.randrange(25_000, 30_000)), link=link).expect_intact("a link that corrupts datagrams")


def check_receiver_ignores_invalid_datagrams(receiver_alone, stream, rng):
    """Bit flips in the payload, seqno, flags or checksum, and short datagrams, get no answer and deliver nothing"""
    receiver = receiver_alone(window=10_000)
    data = stream(2000)
    receiver.syn()
    receiver.expect_ack(1, "the SYN", hint="the first SYN sets ackno to its seqno + 1")
    receiver.data(1, data[:1000])
    receiver.expect_ack(1001, "the first data segment", hint="ackno = ISN + 1 + bytes delivered")
    good = Segment(seqno=wire(1001, receiver.isn), payload=data[1000:]).encode()
    damaged = [("a bit flipped in the payload", flip_bit(good, 128 + rng.randrange(8 * 1000)))]
    for field, (low, high) in HEADER_BITS.items():
        damaged.append((f"a bit flipped in the {field}", flip_bit(good, rng.randrange(low, high))))
    damaged.append((f"a datagram of {(short := rng.randrange(1, 16))} bytes", good[:short]))
    old = Segment(seqno=wire(1, receiver.isn), payload=data[:1000])
    for what, datagram in damaged:
        receiver.send_raw(datagram, f"the second data segment with {what}: {hex_bytes(datagram, 16)}")
        receiver.send(old, " (the first segment again: its acknowledgement marks the end of the test)")
        receiver.expect_ack(1001, f"the first segment, sent after one with {what}", INVALID_HINT)
        receiver.expect_delivered(data[:1000], f"after the second data segment with {what}")
    # An answer to a damaged datagram would come before the next intact one's, so by now it is already waiting.
    receiver.expect_silence("one of the damaged datagrams (an acknowledgement more than the intact ones)", 0.1)
    receiver.send_raw(good, "the second data segment, intact")
    receiver.expect_ack(2001, "the intact second data segment", hint="ackno = ISN + 1 + bytes delivered")
    receiver.expect_delivered(data, "after the intact second data segment")


def check_sender_ignores_a_corrupted_ack(sender_alone, stream, rng):
    """A corrupted acknowledgement, or one without the ACK flag, that would acknowledge everything is ignored"""
    data, window_bit = stream(3000), rng.randrange(80, 96)
    judged_in_attempts(lambda: sender_alone(data, rto_ms=50), partial(expect_bad_acks_ignored, window_bit=window_bit))


def expect_bad_acks_ignored(sender: SenderUnderTest, window_bit: int) -> None:
    sender.handshake(10_000)
    sender.segments_until(sender.fin + 1, "the whole stream and the FIN")
    everything = Segment(ackno=wire(sender.fin + 1, sender.isn), flags=ACK, window=10_000)
    broken = flip_bit(everything.encode(), window_bit)
    sender.confirm_grader_on_time()  # the retransmission below must come after this ack, not before it
    sender.send(everything, broken, " with a bit flipped in the window field (an invalid checksum)")
    sender.expect_segment(
        "a retransmission of ISN+1 (the corrupted ack acknowledged nothing)",
        1,
        within=2.0,
        hint="check the CRC-32 of every acknowledgement before believing any field of it",
    )
    without_ack = Segment(ackno=wire(sender.fin + 1, sender.isn), window=10_000)
    sender.confirm_grader_on_time()
    sender.send(without_ack, note=" (valid, but without the ACK flag)")
    sender.expect_segment(
        "another retransmission of ISN+1 (a datagram without the ACK flag acknowledged nothing)",
        1,
        within=2.0,
        hint="only a valid datagram with the ACK flag can acknowledge anything: ignore any other",
    )
    sender.ack(sender.fin + 1, 10_000)
    sender.finish().expect_exit(0)
