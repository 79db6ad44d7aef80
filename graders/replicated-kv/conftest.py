"""Fixtures for this lab's stages: a cluster whose every link runs through a fault proxy, and its clients."""

from collections.abc import Iterator

import pytest

from kvclient import Kv
from labkit.learners import Cluster
from links import Links

CLUSTER_SIZE = 3


@pytest.fixture
def links() -> Iterator[Links]:
    """A fault proxy per directed node-to-node link, closed after the check (after its cluster stops)."""
    links = Links()
    yield links
    links.close()


@pytest.fixture
def cluster(links, start_cluster) -> Cluster:
    """Three nodes of the learner's program, each reaching the others through ``links``."""
    cluster: Cluster = start_cluster(CLUSTER_SIZE, peer_address=links.route)
    return cluster


@pytest.fixture
def single(start_cluster) -> Cluster:
    """A cluster of one node: it is its own majority."""
    cluster: Cluster = start_cluster(1)
    return cluster


@pytest.fixture
def kv(cluster, rng) -> Iterator[Kv]:
    kv = Kv(cluster, rng)
    yield kv
    kv.close()


@pytest.fixture
def lone_kv(single, rng) -> Iterator[Kv]:
    kv = Kv(single, rng)
    yield kv
    kv.close()


@pytest.fixture
def reference_links() -> Iterator[Links]:
    links = Links()
    yield links
    links.close()


@pytest.fixture
def reference(start_cluster, reference_links, rng) -> Iterator[Kv]:
    """The clients of a cluster of the kit's reference solution, running beside the learner's through fault
    proxies of its own, so that a loaded machine slows both alike and Efficiency compares ratios."""
    cluster: Cluster = start_cluster(CLUSTER_SIZE, peer_address=reference_links.route, reference=True)
    kv = Kv(cluster, rng)
    try:
        yield kv
    finally:
        kv.close()
        cluster.stop()
