"""Fixtures of the ``client`` and ``cluster`` run kinds: the learner's program run to completion, and N
instances of it that form a cluster. Both start it as ``start_learner`` does (limits, environment, marker,
sandbox) and leave nothing running after the check."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace

import pytest

from labkit import context
from labkit.catalog import COMMAND_KINDS, RunSpec, resolve_run
from labkit.client import DEFAULT_TIMEOUT_S, ClientResult, run_client_program
from labkit.cluster import Cluster, ClusterNode, NodeOutput, PeerAddress
from labkit.errors import LabConfigError
from labkit.fixtures import launch_spec, start_process
from labkit.plugin import GradingState
from labkit.readiness import Readiness
from labkit.supervisor import LearnerProcess

_clusters = itertools.count(1)

RunClient = Callable[..., ClientResult]
StartCluster = Callable[..., Cluster]


def _program_run(grading: GradingState, fixture: str) -> RunSpec:
    run = resolve_run(grading.lab, grading.config.impl)
    if run.kind not in COMMAND_KINDS:
        raise LabConfigError(
            f"{fixture} runs the learner's program, but lab {grading.lab.id!r} is of kind {run.kind!r}"
        )
    return run


@pytest.fixture
def run_client(grading: GradingState) -> Iterator[RunClient]:
    """A factory: ``run_client(args=[...], env={...}, stdin=b"...", timeout=10)`` runs the learner's program
    (its command plus ``args``) to completion and returns a :class:`labkit.client.ClientResult`. A program still
    running at ``timeout`` seconds is stopped, and the result says so."""
    started: list[LearnerProcess] = []
    _program_run(grading, "run_client")

    def run(
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> ClientResult:
        spec = launch_spec(grading, env, port=None, args=args)
        return run_client_program(
            spec, stdin=stdin, timeout=timeout, start=lambda s: start_process(grading, s), started=started
        )

    yield run
    for process in started:
        process.stop()


@pytest.fixture
def start_cluster(grading: GradingState) -> Iterator[StartCluster]:
    """A factory: ``start_cluster(3, env={...})`` starts three nodes of the learner's program (see
    :mod:`labkit.cluster` for what each finds in its environment), waits until each is ready by the lab's
    strategy on its client port, and returns the :class:`labkit.cluster.Cluster`. ``peer_address=f`` routes
    node i's traffic to node j through ``f(i, j, direct_address)`` (a fault proxy's address, say)."""
    run = _program_run(grading, "start_cluster")
    clusters: list[Cluster] = []

    def start(
        size: int,
        env: Mapping[str, str] | None = None,
        *,
        peer_address: PeerAddress | None = None,
        ready: Readiness | None = None,
    ) -> Cluster:
        def launch(node: ClusterNode, node_env: Mapping[str, str]) -> LearnerProcess:
            spec = launch_spec(grading, {**(env or {}), **node_env}, port=node.port)
            process = start_process(grading, replace(spec, writable=(node.data_dir,)))
            context.current().processes.append(NodeOutput(node.id, process))
            context.log(f"started node {node.id} (pid {process.pid}) with PORT={node.port} PEER_PORT={node.peer_port}")
            return process

        cluster = Cluster(
            size,
            data_root=grading.config.run_dir / "cluster" / str(next(_clusters)),
            launch=launch,
            wait_ready=lambda process: (ready or run.ready).wait(process, run.ready_timeout),
            peer_address=peer_address,
        )
        clusters.append(cluster)
        cluster.start()
        return cluster

    yield start
    for cluster in clusters:
        cluster.stop()
