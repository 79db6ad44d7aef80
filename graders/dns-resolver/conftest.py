"""Fixtures for the dns-resolver stages: the run's DNS world and its servers, the resolver, a stub client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dnsstub import Stub
from dnsupstream import QueryLog, Upstream
from dnsworld import World, build_world
from labkit.learners import LearnerProcess, RunInfo, learner_fixture


@pytest.fixture(scope="session")
def world(run_info: RunInfo) -> World:
    """Zones, names and server addresses drawn from the run's seed."""
    return build_world(run_info.seed)


@pytest.fixture(scope="session")
def upstream(world: World) -> Iterator[Upstream]:
    """The root, TLD and authoritative servers, for the whole run."""
    servers = Upstream(world)
    yield servers
    servers.close()


def _resolver_env(world: World, upstream: Upstream) -> dict[str, str]:
    return {"ROOT_SERVERS": ",".join(world.roots), "DNS_PORT": str(upstream.port)}


# One resolver per stage: every stage starts with an empty cache.
resolver = learner_fixture(scope="module", env=_resolver_env)


@pytest.fixture
def stub(resolver: LearnerProcess) -> Stub:
    return Stub(resolver.port or 0)


@pytest.fixture
def queries(upstream: Upstream) -> QueryLog:
    """Every query the resolver sent upstream, in arrival order."""
    return upstream.log
