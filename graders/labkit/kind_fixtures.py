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
from labkit.fixtures import launch_spec, start_process, wait_ready
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
    running at ``timeout`` seconds is stopped, and the result says so; so is one still running when
    ``stop_when()`` returns what happened (asked every 50 ms), once waiting longer cannot change the verdict."""
    started: list[LearnerProcess] = []
    _program_run(grading, "run_client")

    def run(
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        stop_when: Callable[[], str | None] | None = None,
    ) -> ClientResult:
        spec = launch_spec(grading, env, port=None, args=args)
        return run_client_program(
            spec,
            stdin=stdin,
            timeout=timeout,
            start=lambda s: start_process(grading, s),
            started=started,
            stop_when=stop_when,
        )

    yield run
    for process in started:
        process.stop()


@pytest.fixture
def start_cluster(grading: GradingState) -> Iterator[StartCluster]:
    """A factory: ``start_cluster(3, env={...})`` starts three nodes of the learner's program (see
    :mod:`labkit.cluster` for what each finds in its environment), waits until each is ready by the lab's
    strategy on its client port, and returns the :class:`labkit.cluster.Cluster`. ``peer_address=f`` routes
    node i's traffic to node j through ``f(i, j, direct_address)`` (a fault proxy's address, say).
    ``reference=True`` starts the kit's reference solution instead, as a yardstick measured beside the learner's
    cluster in the same check (ratios, not absolute times): the kit's own code, run as a plain process on this
    machine like the grader's helpers, and never shown as the learner's output."""
    run = _program_run(grading, "start_cluster")
    clusters: list[Cluster] = []

    def start(
        size: int,
        env: Mapping[str, str] | None = None,
        *,
        peer_address: PeerAddress | None = None,
        ready: Readiness | None = None,
        reference: bool = False,
    ) -> Cluster:
        program = grading.lab.solution_folder if reference else None
        node_run = resolve_run(grading.lab, program) if program is not None else run

        def launch(node: ClusterNode, node_env: Mapping[str, str]) -> LearnerProcess:
            spec = launch_spec(grading, {**(env or {}), **node_env}, port=node.port, program=program)
            spec = replace(spec, writable=(node.data_dir,))
            whose = "reference node" if reference else "node"
            process = LearnerProcess.start(spec) if reference else start_process(grading, spec)
            if not reference:
                context.watch(NodeOutput(node.id, process))
            ports = f"PORT={node.port} PEER_PORT={node.peer_port}"
            context.log(f"started {whose} {node.id} (pid {process.pid}) with {ports}")
            return process

        cluster = Cluster(
            size,
            data_root=grading.config.run_dir / ("reference" if reference else "cluster") / str(next(_clusters)),
            launch=launch,
            wait_ready=lambda process: (
                (ready or node_run.ready).wait(process, node_run.ready_timeout)
                if reference
                else wait_ready(grading, process, ready or node_run.ready, node_run.ready_timeout)
            ),
            peer_address=peer_address,
        )
        clusters.append(cluster)
        cluster.start()
        return cluster

    yield start
    for cluster in clusters:
        cluster.stop()
