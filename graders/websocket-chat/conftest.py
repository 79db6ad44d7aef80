"""Fixtures for the websocket-chat stages: raw clients, websockets-library clients and chat members."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Unpack

import pytest

from labkit.checks import fail
from labkit.learners import LearnerProcess
from libclient import ChatClient, LibClient, OpenOptions, show
from rawclient import ConnectOptions, RawWebSocket


@pytest.fixture
def server(stage_learner: LearnerProcess) -> LearnerProcess:
    """The server under test; stages that need an empty room override this with a fresh ``learner``."""
    return stage_learner


@pytest.fixture
def raw(server: LearnerProcess, rng: random.Random) -> Iterator[Callable[..., RawWebSocket]]:
    """A factory of raw clients, opened on /echo unless ``path=None`` (then only TCP-connected)."""
    clients: list[RawWebSocket] = []

    def open_raw(label: str = "client", path: str | None = "/echo", **options: Unpack[ConnectOptions]) -> RawWebSocket:
        client = RawWebSocket.connect(server.port or 0, rng, label=label, **options)
        clients.append(client)
        if path is not None:
            client.handshake(path)
        return client

    yield open_raw
    for client in clients:
        client.tcp.close()


@pytest.fixture
def lib(server: LearnerProcess) -> Iterator[Callable[..., LibClient]]:
    """A factory of websockets-library clients on /echo (or ``path``)."""
    clients: list[LibClient] = []

    def open_lib(label: str = "client", path: str = "/echo", **options: Unpack[OpenOptions]) -> LibClient:
        client = LibClient.open(server.port or 0, path, label=label, **options)
        clients.append(client)
        return client

    yield open_lib
    for client in clients:
        client.close_socket()


@pytest.fixture
def chat(server: LearnerProcess) -> Iterator[Callable[..., ChatClient]]:
    """A factory of chat members: ``chat("alice", members=["bob"])`` joins and checks the welcome event."""
    clients: list[ChatClient] = []

    def join(
        name: str, members: list[str] | None = None, *, label: str | None = None, **options: Unpack[OpenOptions]
    ) -> ChatClient:
        opened = LibClient.open(server.port or 0, f"/chat?name={name}", label=label or name, **options)
        client = ChatClient(opened.ws, opened.label, name)
        clients.append(client)
        welcome = client.event(f"the welcome event for {name}")
        expected = {"type": "welcome", "name": name, "members": sorted(members or [])}
        if welcome != expected:
            fail(
                f"{name} joined the chat and expected its welcome event first",
                expected=show(expected),
                got=show(welcome),
                hint="the first message after the 101 response is the welcome event, listing the other members",
            )
        return client

    yield join
    for client in clients:
        client.close_socket()


@pytest.fixture
def alive(server: LearnerProcess) -> Callable[[str], None]:
    """``alive("after X")`` fails when the server process has exited."""

    def check(after: str) -> None:
        code = server.exit_code()
        if code is not None:
            fail(
                f"your server exited with code {code} {after}",
                hint="a bad client ends its own connection only: catch errors per connection",
            )

    return check
