"""Fixtures for the udp-reliable stages: end-to-end transfers, and the grader in one side's place.

The lab is of kind ``server`` (the receiver, ready when it answers the probe); the same program is also run as the
sender with ``run_client``, to completion, with the role's arguments appended to its command.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest

from as_receiver import SenderUnderTest
from as_sender import ReceiverUnderTest
from labkit.learners import LearnerProcess
from link import Link, RunClient, StartLearner, Transfer, run_transfer

NO_WRAP_BELOW = 2**32 - 2**21  # ISNs below this leave room for any stream of the grader before 2**32


def any_isn(rng: random.Random) -> int:
    return rng.randrange(NO_WRAP_BELOW)


class Transfers:
    """``transfer(data, link=Link(...), isn=None, label="...")`` runs one stream end to end through a fresh proxy;
    ``transfer.plan(...)``, with the same arguments, draws its ISN and the proxy's seed now and returns the
    transfer to run later (in ``labkit.checks.concurrently``), so that a run's randomness does not depend on
    which thread came first."""

    def __init__(self, start_learner: StartLearner, run_client: RunClient, rng: random.Random) -> None:
        self._start_learner, self._run_client, self._rng = start_learner, run_client, rng

    def __call__(
        self, data: bytes, *, link: Link | None = None, isn: int | None = None, label: str = "link"
    ) -> Transfer:
        return self.plan(data, link=link, isn=isn, label=label)()

    def plan(
        self, data: bytes, *, link: Link | None = None, isn: int | None = None, label: str = "link"
    ) -> Callable[[], Transfer]:
        isn = any_isn(self._rng) if isn is None else isn
        seed = self._rng.getrandbits(32)
        return lambda: run_transfer(
            self._start_learner, self._run_client, data, isn=isn, seed=seed, link=link or Link(), label=label
        )


@pytest.fixture
def transfer(start_learner: StartLearner, run_client: RunClient, rng: random.Random) -> Transfers:
    return Transfers(start_learner, run_client, rng)


@pytest.fixture
def _background_senders() -> Iterator[list[SenderUnderTest]]:
    """Set up before ``run_client`` so that it is torn down after it: the sender processes are stopped by then,
    and the threads that waited for them end at once."""
    senders: list[SenderUnderTest] = []
    yield senders
    for sender in senders:
        sender.thread.join(10.0)


@pytest.fixture
def sender_alone(
    _background_senders: list[SenderUnderTest], run_client: RunClient, rng: random.Random
) -> Callable[..., SenderUnderTest]:
    """``sender_alone(data, rto_ms=..., isn=None)``: the learner's sender, with the grader as its receiver."""

    def start(data: bytes, *, rto_ms: int, isn: int | None = None, timeout: float = 20.0) -> SenderUnderTest:
        sender = SenderUnderTest(
            run_client, data, isn=any_isn(rng) if isn is None else isn, rto_ms=rto_ms, timeout=timeout
        )
        _background_senders.append(sender)
        return sender

    return start


@pytest.fixture
def receiver_alone(start_learner: StartLearner, rng: random.Random) -> Iterator[Callable[..., ReceiverUnderTest]]:
    """``receiver_alone(window=..., isn=None)``: the learner's receiver, with the grader as its sender."""
    peers: list[ReceiverUnderTest] = []

    def start(*, window: int, isn: int | None = None) -> ReceiverUnderTest:
        receiver: LearnerProcess = start_learner(args=["receive"], env={"WINDOW": str(window)})
        peers.append(ReceiverUnderTest(receiver, isn=any_isn(rng) if isn is None else isn, window=window))
        return peers[-1]

    yield start
    for peer in peers:
        peer.sock.close()


@pytest.fixture
def stream(rng: random.Random) -> Callable[[int], bytes]:
    """``stream(n)``: n random bytes from the check's seed."""
    return rng.randbytes
