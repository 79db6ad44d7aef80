"""Fixtures for the http-server stages: a generated document root, the server serving it, raw HTTP clients."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest

from httpclient import HttpConnection
from labkit.learners import LearnerProcess, RunInfo, learner_fixture
from site_files import Site, build_site


@pytest.fixture(scope="session")
def site(run_info: RunInfo) -> Site:
    """Files with seed-derived content in a folder of this run; the server gets it as DOCROOT."""
    return build_site(run_info.run_dir / "http-site", random.Random(run_info.seed))


# The server under test, with DOCROOT set. One server serves the whole run: the ladder stops at the first failing
# stage, so a stage only ever inherits a server that passed every stage before it, and a run saves a start-up per
# stage. A check that left it dead gets a fresh one, so a crash is blamed on the check that caused it.
server = learner_fixture(scope="session", env=lambda site: {"DOCROOT": str(site.public)})


@pytest.fixture
def http(server: LearnerProcess) -> Iterator[Callable[..., HttpConnection]]:
    """A factory of connections to the server. Opening one closes the check's earlier ones: no check holds two at
    once, so a server that serves one connection at a time fails in the slowloris stage, which is about exactly
    that, rather than at random earlier. All are closed after the check."""
    connections: list[HttpConnection] = []

    def connect(label: str = "client", timeout: float = 2.0) -> HttpConnection:
        for earlier in connections:
            earlier.close()
        connection = HttpConnection.connect(server.port or 0, label=label, timeout=timeout)
        connections.append(connection)
        return connection

    yield connect
    for connection in connections:
        connection.close()
