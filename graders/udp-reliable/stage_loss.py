"""Stage 3: lost datagrams are retransmitted, and only what was lost (a budget on retransmitted bytes).

The budget is judged on the longer transfer only: over a short one a sender that resends its whole window on
every timeout may not have had enough timeouts to show it."""

from labkit.checks import attach, fail, log
from labkit.tools.udpproxy import UdpFaults
from link import NEVER_TWO_IN_A_ROW, Link, Transfer

BUDGET_SLACK = 8000  # bytes: retransmissions a correct sender owes to lost acknowledgements and a loaded machine


def lossy(drop: float, rto_ms: int) -> Link:
    faults = UdpFaults(drop=drop, max_consecutive_losses=NEVER_TWO_IN_A_ROW)
    return Link(to_receiver=faults, to_sender=faults, rto_ms=rto_ms, timeout=12.0)


def check_ten_percent_loss(transfer, stream, rng):
    """10 % of the datagrams dropped each way: the stream arrives intact, within the retransmission budget"""
    # RTO_MS 30 keeps the backed-off waits short; under two busy loops a correct sender still retransmitted at most
    # 2000 bytes more than the proxy dropped, well inside the slack (and a timeout's spurious retransmission is one
    # segment). The receiver's linger outlasts every gap a sender leaves at this RTO_MS (see stage_teardown).
    done = transfer(stream(rng.randrange(45_000, 55_000)), link=lossy(0.10, rto_ms=30))
    done.expect_intact("a link dropping 10 % of the datagrams each way")
    expect_within_budget(done)


def check_twenty_percent_loss(transfer, stream, rng):
    """20 % of the datagrams dropped each way: the stream arrives intact"""
    done = transfer(stream(rng.randrange(15_000, 20_000)), link=lossy(0.20, rto_ms=30))
    done.expect_intact("a link dropping 20 % of the datagrams each way")


def expect_within_budget(done: Transfer) -> None:
    again, dropped = done.retransmitted_bytes(), done.dropped_payload_bytes()
    budget = 2 * dropped + BUDGET_SLACK
    log(f"your sender retransmitted {again} payload bytes; the proxy dropped {dropped}; budget {budget}")
    if again > budget:
        attach("datagrams.txt", done.datagram_log(), "every datagram of the transfer, as the proxy saw it")
        fail(
            "your sender retransmitted far more than was lost",
            expected=f"at most {budget} bytes retransmitted (twice the {dropped} payload bytes dropped, plus "
            f"{BUDGET_SLACK})",
            got=f"{again} bytes retransmitted",
            hint="when the timer expires retransmit the earliest outstanding segment only, not every segment in "
            "flight; the receiver's cumulative ack then tells you what else is missing",
        )
