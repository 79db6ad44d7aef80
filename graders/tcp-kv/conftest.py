"""Fixtures for the tcp-kv stages."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kvwire import KvClient
from labkit.learners import LearnerProcess
from labkit.tools.tcp import TcpClient


@pytest.fixture
def server(stage_learner: LearnerProcess) -> LearnerProcess:
    """The server under test; stages whose checks stop it override this with a fresh ``learner``."""
    return stage_learner


@pytest.fixture
def kv(server: LearnerProcess) -> Iterator[Callable[..., KvClient]]:
    """A factory of connected tcp-kv clients to the learner's server; all are closed after the check."""
    clients: list[TcpClient] = []

    def connect(label: str = "client", timeout: float = 2.0, receive_buffer: int | None = None) -> KvClient:
        tcp = TcpClient.connect(server.port or 0, label=label, timeout=timeout, receive_buffer=receive_buffer)
        clients.append(tcp)
        return KvClient(tcp)

    yield connect
    for client in clients:
        client.close()
