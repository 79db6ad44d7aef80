"""Fixtures for the grpc-service stages: generated stubs, the learner's server, and clients bound to it."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc

from grpcwire import RpcClient
from inventory import TOKENS, Inventory, bearer, generate_stubs
from labkit.ports import LOOPBACK
from watchstream import WatchStream


@pytest.fixture(scope="session")
def stubs(run_info):
    """inventory_pb2 and inventory_pb2_grpc, generated from the lab's .proto into this run's folder."""
    return generate_stubs(run_info.lab_folder / "inventory.proto", run_info.run_dir / "stubs")


@pytest.fixture(scope="session")
def pb(stubs):
    return stubs[0]


@pytest.fixture
def server(run_learner):
    """The server under test: one instance for the whole run (start-up costs a Python interpreter, grpcio and
    protoc), restarted only if a check left it dead. Checks keep apart by sku prefix and compare Stats counters
    with their own earlier readings, so what earlier checks left behind does not matter."""
    return run_learner


@pytest.fixture
def channels(server):
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
def client(stubs, channels):
    """A factory of Inventory clients: ``client("reader")`` calls as a reader; ``metadata=`` sends exactly that."""
    pb, pb_grpc = stubs

    def connect(role: str = "admin", *, metadata=None, who: str | None = None, channel=None) -> Inventory:
        if metadata is None:
            metadata = bearer(TOKENS[role])
        return Inventory(pb, pb_grpc, channel or channels(), who or role, metadata)

    return connect


@pytest.fixture
def inv(client) -> Inventory:
    """An admin client: allowed every call, so early stages work before authentication is written."""
    return client()


@pytest.fixture
def watches(stubs, channels):
    """A factory of Watch streams; every stream still open is cancelled after the check."""
    pb, pb_grpc = stubs
    opened: list[WatchStream] = []

    def watch(prefix: str, *, label: str = "watcher", role: str = "admin", metadata=None, channel=None, **options):
        stub = pb_grpc.InventoryStub(channel or channels())
        stream = WatchStream(
            stub,
            pb.WatchRequest(prefix=prefix),
            bearer(TOKENS[role]) if metadata is None else metadata,
            label,
            **options,
        )
        opened.append(stream)
        return stream

    yield watch
    for stream in opened:
        stream.cancel()


@pytest.fixture
def health(channels):
    """A client of the standard grpc.health.v1 service; it sends no token, as load balancers do not."""
    return RpcClient(health_pb2_grpc.HealthStub(channels()), "the health probe")


@pytest.fixture
def prefix(rng):
    """A sku prefix no other check uses, so checks sharing a server never see each other's items."""
    return f"{rng.choice('abcdefghkmnpqrstuvwxyz')}{rng.randrange(16**5):05x}-"
