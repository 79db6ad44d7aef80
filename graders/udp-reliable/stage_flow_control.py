"""Stage 4: flow control. Never past the window's right edge, fill what is open, probe a zero window."""

import itertools

from as_receiver import Arrival, SenderUnderTest
from fell_behind import judged_in_attempts
from labkit.checks import fail

WINDOWS = (2500, 700, 1, 3333, 1000, 3777, 1800)  # not multiples of a segment; one smaller than any
FILL_HINT = "while bytes remain and the window has room, send more: do not wait for an ack to use an open window"
PROBES = 8  # more than the retransmissions after which a sender gives up: a probe never gives up
# After an ack that keeps the right edge still, a sender that wrongly moves it sends at once (within a few ms); RTO_MS
# is 400, so a retransmission (inside the edge anyway) is not expected this soon.
PART_ACK_QUIET_S = 0.15


def expect_inside(arrival: Arrival, edge: int) -> None:
    if arrival.end > edge:
        fail(
            "your sender sent past the right edge of the receiver's window",
            expected=f"segments ending at ISN+{edge} at the latest (ackno + window of the latest acceptable ack)",
            got=f"{arrival.segment.length} sequence numbers from ISN+{arrival.start}, ending at ISN+{arrival.end}",
            hint="send a segment only if seqno + length <= ackno + window; cut a segment short to fit",
        )


def check_sender_keeps_within_changing_windows(sender_alone, stream, rng):
    """No segment reaches past the right edge as windows grow, shrink and stand still; every window is filled"""
    data = stream(rng.randrange(9000, 11_000))
    with sender_alone(data, rto_ms=400) as sender:
        windows = itertools.cycle(WINDOWS)
        window = next(windows)
        sender.handshake(window)
        acked, edge, sent = 1, 1 + window, 1
        for turn in itertools.count():
            target = min(edge, sender.fin + 1)
            while sent < target:
                arrival = sender.expect(f"segments up to the right edge ISN+{target}", hint=FILL_HINT)
                expect_inside(arrival, edge)
                sent = max(sent, arrival.end)
            if sent == sender.fin + 1:
                break
            if turn % 3 == 1 and sent - acked >= 2:  # part acknowledged, the right edge kept where it was
                acked += (sent - acked) // 2
                sender.ack(acked, edge - acked)
                for arrival in sender.quiet(PART_ACK_QUIET_S):
                    expect_inside(arrival, edge)
            else:
                window = next(windows)
                sender.ack(sent, window)
                acked, edge = sent, sent + window
        sender.ack(sender.fin + 1, 1000)
        sender.finish().expect_exit(0)


def check_the_fin_waits_for_room_in_the_window(sender_alone, stream, rng):
    """The FIN waits until the window has room for its number (not with the right edge on it), then goes out at once"""
    data = stream(rng.randrange(2001, 3000))
    judged_in_attempts(lambda: sender_alone(data, rto_ms=400), expect_the_fin_once_there_is_room)


def expect_the_fin_once_there_is_room(sender: SenderUnderTest) -> None:
    edge = sender.fin  # the window holds every byte and not the FIN
    sender.handshake(edge - 1)
    for arrival in sender.segments_until(edge, f"every byte of the stream (the window ends at ISN+{edge})"):
        expect_inside(arrival, edge)
    for arrival in sender.quiet(PART_ACK_QUIET_S):
        expect_inside(arrival, edge)
    sender.answer(sender.fin, 1)  # every byte acknowledged; the window has room for the FIN's one number
    sender.expect_segment(
        f"the FIN (ISN+{sender.fin}), now that the window has room for it",
        sender.fin,
        1,
        within=1.0,
        hint="send the FIN as soon as every byte was sent and seqno + 1 <= ackno + window: nothing else "
        "will wake the sender once everything sent is acknowledged",
    )
    sender.ack(sender.fin + 1, 1)
    sender.finish().expect_exit(0)


def check_zero_window_is_probed_without_back_off(sender_alone, stream):
    """A zero window gets a one-byte probe every RTO_MS, never backed off, never given up; then the rest flows"""
    data = stream(3000)
    judged_in_attempts(lambda: sender_alone(data, rto_ms=50), expect_zero_window_probes)


def expect_zero_window_probes(sender: SenderUnderTest) -> None:
    sender.handshake(1000)
    sender.segments_until(1001, "the first 1000 bytes (the window)")
    sender.answer(1001, 0)  # before the timer retransmits ISN+1, or the attempt proves nothing
    for number in range(1, PROBES + 1):
        sender.expect_segment(
            f"zero-window probe {number} (RTO_MS=50)",
            1001,
            1,
            within=1.2,
            hint="a zero window counts as one: send one byte, and retransmit it every RTO_MS without doubling "
            "RTO or counting towards giving up",
        )
        sender.ack(1001, 0)  # the probe's byte lies outside a zero window: nothing is acknowledged
    sender.ack(1001, 5000)
    sender.segments_until(sender.fin + 1, "the rest of the stream once the window opened", within=2.0)
    sender.ack(sender.fin + 1, 5000)
    sender.finish().expect_exit(0)


EDGE_HINT = "keep the bytes in [ackno, ackno + WINDOW) only: the part of a segment past the edge is discarded"


def check_receiver_keeps_to_its_window(receiver_alone, stream):
    """Bytes past the receiver's right edge are discarded, those up to it kept; the window is always WINDOW"""
    receiver = receiver_alone(window=3000)
    data = stream(7000)

    def send(begin: int, end: int, ackno: int, note: str) -> None:
        receiver.data(1 + begin, data[begin:end], f" (bytes {begin} to {end - 1}: {note})")
        receiver.expect_ack(ackno, f"bytes {begin} to {end - 1}", EDGE_HINT)
        receiver.expect_delivered(data[: ackno - 1], f"after bytes {begin} to {end - 1}")

    receiver.syn()
    receiver.expect_ack(1, "the SYN", hint="the first SYN sets ackno to its seqno + 1")
    send(3000, 4000, 1, "all past the right edge ISN+3001")
    send(2000, 3000, 1, "ending exactly at the edge: kept, after a gap")
    send(1000, 2000, 1, "still a gap before it")
    send(0, 1000, 3001, "fills the gap; bytes 3000 on were discarded")
    send(5001, 6001, 3001, "one byte past the new edge ISN+6001: kept up to the edge")
    send(3000, 4000, 4001, "in order")
    send(4000, 5000, 5001, "in order")
    send(5000, 5001, 6001, "fills the gap up to the edge")
    send(6000, 7000, 7001, "the byte discarded before, and the rest")
    receiver.fin(7001)
    receiver.expect_ack(7002, "the FIN", hint="the FIN takes one sequence number once every byte before it is in")
