"""Stage 7: the end of a connection. The FIN is retransmitted until acknowledged, and acknowledged again."""

import time

from as_receiver import SenderUnderTest, expect_flags
from fell_behind import judged_in_attempts
from segments import FIN

ACK_FIN_HINT = (
    "after the FIN, keep running and answer every segment, a retransmitted FIN too, with the same ackno; exit only "
    "after 1 s without any datagram"
)
# A receiver may exit after 1 s of silence once it acknowledged the FIN. Each probe comes well inside that, leaving
# a loaded machine 0.35 s to deliver it late (a receiver's own timer, delayed too, only lingers longer), and catches a
# receiver that lingers for any shorter, fixed time below 0.65 s; two of them, 1.3 s after the first FIN, catch one
# that counts the 1 s from that FIN (0.3 s to spare: its exit can only come later than due, and the probe too).
# The linger is no shorter because it must outlast the gaps between a sender's backed-off retransmissions of the
# FIN in the end-to-end checks, where acknowledgements get lost: at the lossy and corrupting links' RTO_MS 30 even
# the longest gap a sender can leave before it gives up, 1 + 2 + 4 + 8 + 16 = 31 RTO_MS after its last progress (the
# acknowledgement of the first FIN and the next four retransmissions all lost), is 0.93 s; the slow link (RTO_MS 100)
# loses 2 % of the acknowledgements only, so a gap of 16 RTO_MS there takes four lost in a row.
LINGER_PROBE_S = 0.65


def check_fin_is_retransmitted_until_acknowledged(sender_alone, stream):
    """When the FIN's acknowledgement is lost, the FIN is retransmitted until one arrives; then the sender exits 0"""
    data = stream(2500)
    judged_in_attempts(lambda: sender_alone(data, rto_ms=50), expect_the_fin_retransmitted)


def expect_the_fin_retransmitted(sender: SenderUnderTest) -> None:
    sender.handshake(10_000)
    sender.segments_until(sender.fin + 1, "the whole stream and the FIN")
    sender.answer(sender.fin, 10_000)  # every byte, not the FIN
    for number in (1, 2):
        again = sender.expect_segment(f"retransmission {number} of the FIN", sender.fin, 1, within=2.0)
        expect_flags(again, FIN, "the retransmitted FIN")
    sender.ack(sender.fin + 1, 10_000)
    sender.finish(within=3.0).expect_exit(0)


def check_receiver_acknowledges_a_retransmitted_fin(receiver_alone, stream):
    """A FIN sent again 0.65 s and 1.3 s later is acknowledged again (only 1 s of silence after it ends a receiver)"""
    receiver = receiver_alone(window=10_000)
    data = stream(1800)
    # Two more receivers wait in silence while this one is probed: one that has heard nothing since the grader's
    # probe, one in the middle of a stream. Neither has a FIN acknowledged, so neither may have gone.
    unopened, midway = receiver_alone(window=10_000), receiver_alone(window=10_000)
    midway.syn()
    midway.expect_ack(1, "the SYN", hint="the first SYN sets ackno to its seqno + 1")
    midway.data(1, data[:1000])
    midway.expect_ack(1001, "the first data segment", hint="ackno = ISN + 1 + bytes delivered")
    receiver.syn()
    receiver.expect_ack(1, "the SYN", hint="the first SYN sets ackno to its seqno + 1")
    receiver.data(1, data[:1000])
    receiver.data(1001, data[1000:])
    receiver.expect_ack(1001, "the first data segment", hint="ackno = ISN + 1 + bytes delivered")
    receiver.expect_ack(1801, "the second data segment", hint="ackno = ISN + 1 + bytes delivered")
    receiver.fin(1801)
    receiver.expect_ack(1802, "the FIN", hint="the FIN takes one sequence number once every byte before it is in")
    time.sleep(LINGER_PROBE_S)  # the sender's timer, had the acknowledgement been lost
    receiver.fin(1801)
    receiver.expect_ack(1802, f"the FIN sent again {LINGER_PROBE_S} s later", ACK_FIN_HINT)
    time.sleep(LINGER_PROBE_S)  # 1.3 s after the first FIN: only a datagram since then keeps the receiver here
    receiver.fin(1801)
    receiver.expect_ack(
        1802,
        f"the FIN sent a third time, {LINGER_PROBE_S} s after the second",
        "the 1 s of silence counts from the latest datagram, not from the FIN's first acknowledgement",
    )
    receiver.data(1001, data[1000:], " (an old segment)")
    receiver.expect_ack(1802, "an old data segment after the FIN", ACK_FIN_HINT)
    receiver.expect_delivered(data, "at the end")
    silent = f"after {2 * LINGER_PROBE_S} s of silence"
    keep_running = "keep running until the grader stops you: only 1 s of silence after the FIN's ack ends a receiver"
    unopened.syn()
    unopened.expect_ack(1, f"a SYN {silent} since the grader's probe", keep_running)
    midway.data(1001, data[1000:])
    midway.expect_ack(1801, f"the rest of the stream {silent} in the middle of it", keep_running)
    midway.fin(1801)
    midway.expect_ack(1802, f"the FIN {silent} in the middle of the stream", keep_running)
    midway.expect_delivered(data, "at the end")


def check_fin_counts_only_after_every_byte_before_it(receiver_alone, stream):
    """A FIN ahead of a gap, on the window's last number, waits for the missing bytes; one at the edge is discarded"""
    far = receiver_alone(window=4500)
    data = stream(4500)
    far.syn()
    far.expect_ack(1, "the SYN", hint="the first SYN sets ackno to its seqno + 1")
    far.fin(4501)
    far.expect_ack(
        1, "a FIN exactly at the window's right edge (ISN+4501, outside it)", "a FIN beyond the window is discarded"
    )
    for begin in (0, 1000, 2000, 3000, 4000):
        far.data(1 + begin, data[begin : begin + 1000])
        far.expect_ack(1 + min(begin + 1000, 4500), f"bytes {begin} on", "the discarded FIN does not count")
    far.fin(4501)
    far.expect_ack(4502, "the FIN, sent again", "a FIN in the window counts once every byte before it is in")
    far.expect_delivered(data, "at the end")
    early = receiver_alone(window=3501)  # after the first 1000 bytes, the FIN is the window's last number
    early.syn()
    early.expect_ack(1, "the SYN", hint="the first SYN sets ackno to its seqno + 1")
    early.data(1, data[:1000])
    early.expect_ack(1001, "the first data segment", hint="ackno = ISN + 1 + bytes delivered")
    early.fin(4501)
    early.expect_ack(
        1001,
        "a FIN that arrived before the last 3500 bytes (on the window's last number, ISN+4501)",
        "a FIN waits for the bytes before it; one inside the window, its last number included, is remembered",
    )
    for begin in (1000, 2000, 3000, 4000):
        early.data(1 + begin, data[begin : begin + 1000])
    for begin in (1000, 2000, 3000):
        early.expect_ack(1 + begin + 1000, f"bytes {begin} on", "a FIN waits for the bytes before it")
    early.expect_ack(4502, "the last bytes, after the FIN had arrived", "the FIN counts once the gap is filled")
    early.expect_delivered(data, "at the end")
