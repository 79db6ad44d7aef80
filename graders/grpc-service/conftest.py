"""Fixtures for the grpc-service stages: generated stubs, the learner's server, and clients bound to it."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from types import ModuleType

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc

from grpcwire import RpcClient
from inventory import POLL_S, TOKENS, Inventory, bearer, generate_stubs
from labkit.checks import CheckFailed
from labkit.learners import LearnerProcess, RunInfo
from labkit.ports import LOOPBACK
from labkit.wait import until
from watchstream import STREAM_LIFETIME_S, WatchStream

UNREGISTER_S = 2.0  # the README: a cancelled stream's watcher is unregistered within 2 seconds


@pytest.fixture(scope="session")
def stubs(run_info: RunInfo) -> tuple[ModuleType, ModuleType]:
    """inventory_pb2 and inventory_pb2_grpc, generated from the lab's .proto into this run's folder."""
    return generate_stubs(run_info.lab_folder / "inventory.proto", run_info.run_dir / "stubs")


@pytest.fixture(scope="session")
def pb(stubs: tuple[ModuleType, ModuleType]) -> ModuleType:
    return stubs[0]


@pytest.fixture
def server(run_learner: LearnerProcess) -> LearnerProcess:
    """The server under test: one instance for the whole run (start-up costs a Python interpreter, grpcio and
    protoc), restarted only if a check left it dead. Checks keep apart by sku prefix and compare Stats counters
    with their own earlier readings, so what earlier checks left behind does not matter."""
    return run_learner


@pytest.fixture
def channels(server: LearnerProcess) -> Iterator[Callable[[], grpc.Channel]]:
    """A factory of channels to the learner's server; all are closed after the check."""
    opened: list[grpc.Channel] = []

    def open_channel() -> grpc.Channel:
        channel = grpc.insecure_channel(f"{LOOPBACK}:{server.port}")
        opened.append(channel)
        return channel

    yield open_channel
    for channel in opened:
        channel.close()


@pytest.fixture
def client(stubs: tuple[ModuleType, ModuleType], channels: Callable[[], grpc.Channel]) -> Callable[..., Inventory]:
    """A factory of Inventory clients: ``client("reader")`` calls as a reader; ``metadata=`` sends exactly that."""
    pb, pb_grpc = stubs

    def connect(
        role: str = "admin",
        *,
        metadata: tuple[tuple[str, str], ...] | None = None,
        who: str | None = None,
        channel: grpc.Channel | None = None,
    ) -> Inventory:
        if metadata is None:
            metadata = bearer(TOKENS[role])
        return Inventory(pb, pb_grpc, channel or channels(), who or role, metadata)

    return connect


@pytest.fixture
def inv(client: Callable[..., Inventory]) -> Inventory:
    """An admin client: allowed every call, so early stages work before authentication is written."""
    return client()


@pytest.fixture
def watches(
    stubs: tuple[ModuleType, ModuleType], channels: Callable[[], grpc.Channel], client: Callable[..., Inventory]
) -> Iterator[Callable[..., WatchStream]]:
    """A factory of Watch streams; every stream still open is cancelled after the check, and the next check begins
    once the server has unregistered them (see ``settle_watchers``)."""
    pb, pb_grpc = stubs
    opened: list[WatchStream] = []
    bookkeeper = client(who="the grader between checks")
    before = active_watchers(bookkeeper)

    def watch(
        prefix: str,
        *,
        label: str = "watcher",
        role: str = "admin",
        metadata: tuple[tuple[str, str], ...] | None = None,
        channel: grpc.Channel | None = None,
        timeout: float = STREAM_LIFETIME_S,
    ) -> WatchStream:
        stub = pb_grpc.InventoryStub(channel or channels())
        stream = WatchStream(
            stub,
            pb.WatchRequest(prefix=prefix),
            bearer(TOKENS[role]) if metadata is None else metadata,
            label,
            timeout,
        )
        opened.append(stream)
        return stream

    yield watch
    for stream in opened:
        stream.cancel()
    if opened and before is not None:
        settle_watchers(bookkeeper, before)


def active_watchers(inv: Inventory) -> int | None:
    """GetStats.active_watchers, or None when the server cannot say (the check that needs it says why)."""
    try:
        return int(inv.call("GetStats", inv.request("GetStats"), quiet=True).active_watchers)
    except CheckFailed:
        return None


def settle_watchers(inv: Inventory, count: int) -> None:
    """Waits until the streams a check cancelled are unregistered, as the README allows, within 2 s. A check
    counts the watchers it opens on top of those registered when it begins: a stream of the check before, still
    counted then and unregistered a moment later, would hide one of its own. A server that keeps them longer is
    judged by the cancellation stage, not here."""
    until(lambda: (active_watchers(inv) or 0) <= count, UNREGISTER_S, interval=POLL_S)


@pytest.fixture
def health(channels: Callable[[], grpc.Channel]) -> RpcClient:
    """A client of the standard grpc.health.v1 service; it sends no token, as load balancers do not."""
    return RpcClient(health_pb2_grpc.HealthStub(channels()), "the health probe")


@pytest.fixture
def prefix(rng: random.Random) -> str:
    """A sku prefix no other check uses, so checks sharing a server never see each other's items."""
    return f"{rng.choice('abcdefghkmnpqrstuvwxyz')}{rng.randrange(16**5):05x}-"
