"""Stage 9: throughput over a delayed, lossy link, as a ratio to the grader's own implementation in this run."""

from dataclasses import replace

from labkit.checks import fail, log
from labkit.errors import HarnessError
from labkit.tools.udpproxy import UdpFaults
from link import Link, fin_acknowledged_after
from reference import reference_transfer

RATIO = 3.0
SIZE = 100_000
SLOW_LINK = UdpFaults(delay=0.02, drop=0.02)


def check_throughput_is_within_three_times_the_reference(transfer, stream, rng):
    """100 000 bytes over 20 ms each way and 2 % loss take at most three times the grader's own implementation"""
    data = stream(SIZE)
    isn, seed = rng.getrandbits(31), rng.getrandbits(32)
    link = Link(to_receiver=SLOW_LINK, to_sender=SLOW_LINK, rto_ms=200, window=20_000, timeout=30.0)
    delivered, reference = reference_transfer(data, isn=isn, seed=seed, link=link)
    if delivered != data or reference is None:
        raise HarnessError("the grader's own implementation did not complete the transfer")
    limit = RATIO * reference
    log(f"the grader's implementation took {reference:.2f} s; yours may take {limit:.2f} s")
    done = transfer(data, link=replace(link, timeout=limit + 2.0), isn=isn, label="slow link")
    done.expect_intact("a link with 20 ms of delay each way and 2 % loss")
    took = fin_acknowledged_after(done.records, isn, len(data))
    if took is None or took > limit:
        fail(
            "your transfer is too slow over a delayed link",
            expected=f"at most {limit:.2f} s ({RATIO:g} × the grader's {reference:.2f} s over the same link)",
            got=f"{took:.2f} s" if took is not None else "no acknowledgement of the FIN",
            hint="keep the whole window in flight: send new segments while earlier ones await their ack "
            "(stop-and-wait needs a round trip of 40 ms per segment)",
        )
