"""Stage 9: throughput over a delayed, lossy link, as a ratio to the grader's own implementation in this run."""

from dataclasses import replace

from labkit.checks import fail, log
from labkit.errors import HarnessError
from labkit.tools.udpproxy import UdpFaults
from link import Link, fin_acknowledged_after
from reference import reference_transfer

RATIO = 3.0
SIZE = 200_000
# Lost acknowledgements cost a correct sender next to nothing; lost data would make both times hostage to which
# segment the proxy happened to drop (a tail loss costs an RTO), so the data direction only jitters.
TO_RECEIVER = UdpFaults(delay=0.02, jitter=0.005)
TO_SENDER = UdpFaults(delay=0.02, jitter=0.005, drop=0.02)


def check_throughput_is_within_a_ratio_of_the_reference(transfer, stream, rng):
    """200 000 bytes over a slow link that loses acks take at most 3 times as long as the grader's implementation"""
    data = stream(SIZE)
    isn, seed = rng.getrandbits(31), rng.getrandbits(32)
    link = Link(to_receiver=TO_RECEIVER, to_sender=TO_SENDER, rto_ms=100, window=60_000, timeout=30.0)
    delivered, reference = reference_transfer(data, isn=isn, seed=seed, link=link)
    if delivered != data or reference is None:
        raise HarnessError("the grader's own implementation did not complete the transfer")
    limit = RATIO * reference
    log(f"the grader's implementation took {reference:.2f} s; yours may take {limit:.2f} s")
    done = transfer(data, link=replace(link, timeout=limit + 2.0), isn=isn, label="slow link")
    done.expect_intact("a link with 20 to 25 ms of delay each way and 2 % of the acks lost")
    took = fin_acknowledged_after(done.records, isn, len(data))
    log(f"yours took {took:.2f} s" if took is not None else "the proxy saw no acknowledgement of your FIN")
    if took is None or took > limit:
        fail(
            "your transfer is too slow over a delayed link",
            expected=f"at most {limit:.2f} s ({RATIO:g} × the grader's {reference:.2f} s over the same link)",
            got=f"{took:.2f} s" if took is not None else "no acknowledgement of the FIN",
            hint="keep the whole window in flight: send new segments while earlier ones await their ack "
            "(stop-and-wait needs a round trip of 40 ms per segment); do not cap the window below what is advertised",
        )
