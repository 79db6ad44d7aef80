"""End to end: the learner's sender and receiver with the grader's seeded lossy proxy between them.

The proxy records every datagram both ways, so a check can judge what crossed the link (retransmissions, segment
layout, timings) as well as what came out of the receiver.
"""

from __future__ import annotations

import hashlib
import signal
from collections.abc import Callable
from dataclasses import dataclass, field

from as_sender import describe_output
from labkit.checks import attach, fail, log
from labkit.learners import ClientResult, LearnerProcess
from labkit.tools.udpproxy import UdpFaults, UdpProxy, UdpProxyStats, UdpRecord
from segments import FIN, SYN, decode, offset

# The lossy and corrupting links never lose two datagrams in a row in one direction (a corrupted one is lost too): left
# to chance, a correct sender would give up on a lossy link now and then. It gives up when the earliest outstanding
# segment E went out 6 times (the first and 5 retransmissions) with no progress. Each of those fails either as S (E
# lost: no acknowledgement) or as A (E arrives, its acknowledgement is lost). After an A the receiver holds E, so its
# next acknowledgement is progress, and that one cannot be lost too: one A at most, then at most one S (two S in a row
# need a datagram to the receiver between them, whose acknowledgement then comes through). Before the A, two S need
# later segments between them, and in a run without progress no new data goes out (the window's edge moves only with
# progress), so only E's first transmission can be followed by others. At most 3 in a row fail for the SYN, for the FIN
# and for the last data at the end of a transfer (S A S), at most 4 mid-stream (S, later segments, S A S): the sender
# never reaches 6. On the 20 % link without the cap, the end of a transfer failed 6 times about once in 500.
NEVER_TWO_IN_A_ROW = 1

StartLearner = Callable[..., LearnerProcess]
RunClient = Callable[..., ClientResult]


@dataclass(frozen=True)
class Link:
    """How the proxy treats each direction, and the programs' settings for one transfer."""

    to_receiver: UdpFaults = field(default_factory=UdpFaults)
    to_sender: UdpFaults = field(default_factory=UdpFaults)
    rto_ms: int = 100
    window: int = 20_000
    timeout: float = 15.0  # the sender is stopped after this long

    def describe(self) -> str:
        return (
            f"WINDOW={self.window} RTO_MS={self.rto_ms}; to the receiver {_faults(self.to_receiver)}; "
            f"to the sender {_faults(self.to_sender)}"
        )


def _faults(faults: UdpFaults) -> str:
    named = [f"{name} {getattr(faults, name):g}" for name in ("drop", "duplicate", "reorder", "corrupt")]
    shown = [part for part in named if not part.endswith(" 0")]
    if faults.delay:
        shown.append(f"delay {faults.delay * 1000:g} ms")
    if faults.max_consecutive_losses is not None:
        shown.append(f"at most {faults.max_consecutive_losses} lost in a row")
    return ", ".join(shown) or "perfect"


@dataclass(frozen=True)
class Transfer:
    data: bytes
    isn: int
    link: Link
    sender: ClientResult
    delivered: bytes
    records: list[UdpRecord]
    stats: UdpProxyStats
    receiver_exit: int | None  # how the receiver ended during the transfer; None: still running, as it should
    receiver_output: int  # bytes the receiver wrote to stdout and stderr together

    def datagram_log(self) -> str:
        """Every datagram the proxy saw, one per line, for an artifact."""
        began = self.records[0].at if self.records else 0.0
        lines = [f"ISN={self.isn}, {len(self.data)} bytes; {self.link.describe()}"]
        for record in self.records:
            arrow = "→" if record.direction == "to_server" else "←"
            segment = decode(record.data)
            shown = segment.describe(self.isn) if segment else f"invalid datagram of {len(record.data)} bytes"
            faults = f"  [{', '.join(record.faults)}]" if record.faults else ""
            lines.append(f"{(record.at - began) * 1000:9.1f} ms {arrow} {shown}{faults}")
        return "\n".join(lines) + "\n"

    def expect_intact(self, what: str) -> None:
        """The receiver wrote exactly the stream and the sender exited 0."""
        if self.delivered == self.data and self.sender.exit_code == 0 and not self.sender.timed_out:
            return
        attach("datagrams.txt", self.datagram_log(), f"every datagram of {what}, as the proxy saw it")
        if self.receiver_exit is not None:
            fail(
                f"your receiver {ended(self.receiver_exit)} during the transfer over {what}",
                expected="a receiver that keeps running until the grader stops it",
                got=f"it {ended(self.receiver_exit)} after writing {self.receiver_output / 2**20:.1f} MiB of output; "
                f"your sender {self.sender.outcome}",
                hint="see its stderr below (a program that writes more than the lab's output limit is stopped); a "
                "receiver serves one connection and then stays, answering retransmissions",
            )
        digest = hashlib.sha256
        got = describe_output(self.data, self.delivered)
        if self.delivered != self.data:
            fail(
                f"the stream did not arrive intact over {what}; your sender {self.sender.outcome}",
                expected=f"{len(self.data)} bytes with SHA-256 {digest(self.data).hexdigest()[:16]}…",
                got=f"{got}, SHA-256 {digest(self.delivered).hexdigest()[:16]}…",
                hint=self.hint(),
            )
        fail(
            f"the stream arrived intact over {what}, but your sender {self.sender.outcome}",
            expected="exit status 0 once the FIN is acknowledged",
            got=self.sender.outcome,
            hint="exit 0 as soon as an acceptable acknowledgement one past the FIN arrives",
        )

    def hint(self) -> str:
        if len(self.delivered) > len(self.data) or self.data[: len(self.delivered)] != self.delivered:
            return (
                "a byte written twice or out of order: buffer bytes that arrive after a gap, write each byte once, "
                "and verify every checksum"
            )
        return "bytes are missing: retransmit what is not acknowledged when the timer expires (datagrams.txt shows)"

    def sender_arrivals(self) -> list[tuple[UdpRecord, int]]:
        """The sender's valid segments as the proxy received them, with their start offsets."""
        found = []
        for record in self.records:
            if record.direction == "to_server" and (segment := decode(record.data)) is not None:
                found.append((record, offset(segment.seqno, self.isn)))
        return found

    def retransmitted_bytes(self) -> int:
        """Payload bytes the sender sent more than once."""
        seen = bytearray(len(self.data) + 2)
        again = 0
        for record, start in self.sender_arrivals():
            segment = decode(record.data)
            if segment is None or segment.flags & (SYN | FIN) or start + len(segment.payload) > len(seen):
                continue
            span = seen[start : start + len(segment.payload)]
            again += span.count(1)
            seen[start : start + len(segment.payload)] = b"\1" * len(segment.payload)
        return again

    def dropped_payload_bytes(self) -> int:
        """Payload bytes of the sender's datagrams the proxy dropped."""
        return sum(
            max(0, len(record.data) - 16)
            for record in self.records
            if record.direction == "to_server" and "drop" in record.faults
        )


def run_transfer(
    start_learner: StartLearner, run_client: RunClient, data: bytes, *, isn: int, seed: int, link: Link, label: str
) -> Transfer:
    """Starts a receiver, runs the sender through a fresh proxy, and returns what happened."""
    receiver = start_learner(args=["receive"], env={"WINDOW": str(link.window)})
    log(f"{label}: {len(data)} bytes, ISN={isn}, {link.describe()}")
    with UdpProxy(
        ("127.0.0.1", receiver.port or 0),
        seed=seed,
        to_server=link.to_receiver,
        to_client=link.to_sender,
        label=label,
        max_records=20_000,
    ) as proxy:
        result = run_client(
            args=["send", "127.0.0.1", str(proxy.port)],
            env={"ISN": str(isn), "RTO_MS": str(link.rto_ms)},
            stdin=data,
            timeout=link.timeout,
            stop_when=lambda: None if receiver.exit_code() is None else "your receiver had exited",
        )
    delivered = receiver.stdout_path.read_bytes()
    receiver_exit = receiver.exit_code()
    receiver.stop()
    output = sum(path.stat().st_size for path in (receiver.stdout_path, receiver.stderr_path) if path.exists())
    stats = proxy.stats()
    log(
        f"{label}: the sender sent {stats.to_server.sent} datagrams ({stats.to_server.dropped} dropped), the "
        f"receiver {stats.to_client.sent} ({stats.to_client.dropped} dropped); {len(delivered)} bytes written"
    )
    return Transfer(data, isn, link, result, delivered, proxy.records(), stats, receiver_exit, output)


def fin_acknowledged_after(records: list[UdpRecord], isn: int, size: int) -> float | None:
    """Seconds from the first datagram (the SYN) to the first acknowledgement of the FIN, as the proxy saw them."""
    began = records[0].at if records else 0.0
    for record in records:
        segment = decode(record.data)
        if record.direction == "to_client" and segment and offset(segment.ackno, isn) == size + 2:
            return record.at - began
    return None


def ended(code: int) -> str:
    """How a program ended, in words."""
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"
