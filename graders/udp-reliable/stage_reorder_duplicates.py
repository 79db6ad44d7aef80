"""Stage 2: reordered and duplicated datagrams are delivered once, in order, under cumulative acks."""

from labkit.tools.udpproxy import UdpFaults
from link import Link

SHUFFLED = UdpFaults(reorder=0.2, duplicate=0.2)
CUMULATIVE_HINT = "ackno is the first sequence number not yet received in order, whatever arrived after it"


def check_reordered_and_duplicated_stream_arrives_intact(transfer, stream, rng):
    """A link that reorders and duplicates a fifth of the datagrams each way delivers the stream intact"""
    link = Link(to_receiver=SHUFFLED, to_sender=SHUFFLED)
    transfer(stream(rng.randrange(30_000, 40_000)), link=link).expect_intact("a reordering, duplicating link")


def check_receiver_acknowledges_cumulatively(receiver_alone, stream, rng):
    """Segments in a random order, some twice, get the cumulative ackno; only in-order bytes are written"""
    receiver = receiver_alone(window=20_000)
    sizes = [rng.randrange(1, 1001) for _ in range(8)]
    data = stream(sum(sizes))
    starts = [1 + sum(sizes[:n]) for n in range(len(sizes))]
    order = list(range(len(sizes)))
    rng.shuffle(order)
    order += rng.sample(order, 4)  # four segments again, after the others
    rng.shuffle(order)
    receiver.syn()
    receiver.expect_ack(1, "the SYN", hint="the first SYN sets ackno to its seqno + 1")
    arrived: set[int] = set()
    for number, index in enumerate(order, 1):
        start = starts[index]
        receiver.data(start, data[start - 1 : start - 1 + sizes[index]], f" (segment {index + 1} of 8)")
        arrived.add(index)
        in_order = next((n for n in range(len(sizes)) if n not in arrived), len(sizes))
        position = starts[in_order] if in_order < len(sizes) else 1 + len(data)
        receiver.expect_ack(position, f"datagram {number} ({sorted(i + 1 for i in arrived)} arrived)", CUMULATIVE_HINT)
        receiver.expect_delivered(data[: position - 1], f"after datagram {number}")


def check_overlapping_segments_are_delivered_once(receiver_alone, stream):
    """Overlapping segments with different boundaries deliver each byte once"""
    receiver = receiver_alone(window=20_000)
    data = stream(3000)
    receiver.syn()
    receiver.expect_ack(1, "the SYN", hint="the first SYN sets ackno to its seqno + 1")
    steps = [((500, 1500), 1), ((0, 1000), 1501), ((1200, 2200), 2201), ((0, 900), 2201), ((2000, 3000), 3001)]
    for (begin, end), ackno in steps:
        receiver.data(1 + begin, data[begin:end], f" (bytes {begin} to {end - 1})")
        receiver.expect_ack(ackno, f"bytes {begin} to {end - 1}", CUMULATIVE_HINT)
        receiver.expect_delivered(data[: ackno - 1], f"after bytes {begin} to {end - 1}")
