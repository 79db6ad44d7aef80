"""Stage 1: a perfect link. The stream arrives byte for byte, carried by well-formed segments."""

from collections.abc import Callable
from functools import partial

from labkit.checks import concurrently, fail
from link import Link, Transfer
from segments import ACK, MOD, PROBE, SYN, Segment, decode, offset, receiver_segment_problem, sender_segment_problem

SMALL_SIZES = (0, 1, 1000, 1001)
PERFECT = Link(rto_ms=200, timeout=10.0)  # no loss: a longer RTO keeps a loaded machine from retransmitting


def check_small_streams_arrive_intact(transfer, stream):
    """Streams of 0, 1, 1000 and 1001 bytes arrive intact and the sender exits 0"""
    probes = {}
    for size in SMALL_SIZES:  # each with its own receiver, sender and proxy, all at once
        run = transfer.plan(stream(size), link=PERFECT, label=f"{size}-byte stream")
        probes[f"{size}-byte stream"] = partial(expect_intact, run, f"a perfect link ({size} bytes)")
    concurrently(probes)


def expect_intact(run: Callable[[], Transfer], what: str) -> None:
    run().expect_intact(what)


def check_a_large_stream_arrives_intact_in_well_formed_segments(transfer, stream, rng):
    """About 200 000 bytes arrive with the right SHA-256, every datagram a valid segment in its place"""
    size = rng.randrange(190_000, 210_000)
    done = transfer(stream(size), link=PERFECT)
    done.expect_intact(f"a perfect link ({size} bytes)")
    expect_sender_layout(done)
    expect_receiver_layout(done)


def expect_sender_layout(done: Transfer) -> None:
    fin = len(done.data) + 1
    covered = bytearray(fin + 1)
    acknowledged = False
    for record in done.records:
        segment = decode(record.data)
        if record.direction == "to_client":
            acknowledged = acknowledged or (segment is not None and segment.flags == ACK)
            continue
        if segment is None:
            fail(f"your sender sent an invalid datagram ({len(record.data)} bytes)", got=record.data[:32].hex(" "))
        start = offset(segment.seqno, done.isn)
        problem = sender_segment_problem(segment) or placement(segment, start, fin, acknowledged)
        if problem:
            fail(f"your sender sent a wrong segment: {problem}", got=segment.describe(done.isn))
        covered[start : start + segment.length] = b"\1" * segment.length
    if covered.count(0):
        fail(f"your sender never sent ISN+{covered.index(0)}", hint="send the SYN, every byte, then the FIN")


def placement(segment: Segment, start: int, fin: int, acknowledged: bool) -> str | None:
    if not acknowledged and segment.flags != SYN:
        return "sent before the SYN was acknowledged: until then the sender sends the SYN only"
    if segment.flags == SYN and start != 0:
        return f"the SYN's seqno must be ISN, taken from the environment (ISN+{start} is not)"
    if segment.flags == 0 and not (start >= 1 and start + len(segment.payload) <= fin):
        return f"the stream's bytes are ISN+1 to ISN+{fin - 1}"
    if segment.flags != 0 and segment.flags != SYN and start != fin:
        return f"the FIN follows the last byte: ISN+{fin}"
    return None


def expect_receiver_layout(done: Transfer) -> None:
    last = 0
    for record in done.records:
        segment = decode(record.data)
        if record.direction != "to_client":
            continue
        if segment is None:
            fail(f"your receiver sent an invalid datagram ({len(record.data)} bytes)", got=record.data[:32].hex(" "))
        if problem := receiver_segment_problem(segment, done.link.window):
            fail(f"your receiver sent a wrong acknowledgement: {problem}", got=segment.describe(done.isn))
        ackno = offset(segment.ackno, done.isn)
        if not last <= ackno <= len(done.data) + 2:
            fail(
                "your receiver's acknowledgement numbers are out of order on a perfect link",
                expected=f"an ackno from ISN+{last} to ISN+{len(done.data) + 2}",
                got=segment.describe(done.isn),
                hint="ackno = ISN + 1 + bytes delivered (+1 once the FIN is in), modulo 2**32",
            )
        last = ackno


def check_receiver_answers_the_probe_and_waits_for_the_syn(receiver_alone, stream):
    """The probe gets ackno 0, early data is ignored, the first SYN sets ackno; later ones (any address) nothing"""
    receiver = receiver_alone(window=4000)
    data = stream(900)
    receiver.send_raw(PROBE, "the probe")
    expect_ackno_zero(receiver.reply("the probe"), "the probe")
    receiver.data(1, data, " (before any SYN)")
    expect_ackno_zero(receiver.reply("data before the SYN"), "data before the SYN")
    receiver.syn()
    receiver.expect_ack(1, "the SYN", hint="the first SYN sets ackno to its seqno + 1")
    receiver.expect_delivered(b"", "after the SYN (data that came before it is ignored)")
    receiver.data(1, data)
    receiver.expect_ack(1 + len(data), "the first data segment", hint="ackno = ISN + 1 + bytes delivered")
    receiver.expect_delivered(data, "after the first data segment")
    for seqno in (receiver.isn, (receiver.isn + 5000) % MOD):
        receiver.send(Segment(seqno=seqno, flags=SYN), " (a SYN again)")
        receiver.expect_ack(1 + len(data), f"a second SYN (seqno {seqno})", "a SYN after the first changes nothing")
    receiver.expect_delivered(data, "after two more SYNs")
    elsewhere = receiver.reply_elsewhere(Segment(seqno=receiver.isn, flags=SYN))
    if elsewhere is None or offset(elsewhere.ackno, receiver.isn) != 1 + len(data):
        fail(
            "your receiver did not answer a SYN from another address at that address",
            expected=f"an acknowledgement with ackno ISN+{1 + len(data)}, sent to where the SYN came from",
            got="nothing at that address" if elsewhere is None else elsewhere.describe(receiver.isn),
            hint="send each acknowledgement to the address its datagram came from (recvfrom's), not to the first "
            "peer you saw",
        )


def expect_ackno_zero(reply: Segment | None, what: str) -> None:
    if reply is None or reply.ackno != 0:
        fail(
            f"your receiver's answer to {what} is wrong",
            expected="an acknowledgement with ackno 0 (no SYN has arrived yet)",
            got="no answer" if reply is None else reply.describe(),
            hint="before the SYN, answer every valid segment with flags ACK, ackno 0 and your window",
        )
