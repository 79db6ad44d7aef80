"""Run kind ``cluster``: N instances of the learner's program that find each other through their environment.

Each node is started with the lab's variables and:

    NODE_ID       its id, 0 to N-1
    CLUSTER_SIZE  N
    PORT          where it serves clients (readiness is probed here)
    PEER_PORT     where it listens for the other nodes
    PEERS         how it reaches the other nodes: "id=host:port" joined by commas, e.g. "1=127.0.0.1:20001,..."
    DATA_DIR      its own folder, kept when the node is restarted

A grader kills (SIGKILL), restarts (same ports, same data), pauses (SIGSTOP) and resumes (SIGCONT) nodes
through the :class:`Cluster` handle. The address node i uses to reach node j may be routed elsewhere, through a
fault proxy for that directed link, by a ``peer_address`` function given when the cluster is created.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from labkit import context
from labkit.errors import HarnessError
from labkit.ports import LOOPBACK, free_port
from labkit.supervisor import LearnerProcess

Address = tuple[str, int]
# (from node id, to node id, that node's own peer address) -> the address the first node is told to use.
PeerAddress = Callable[[int, int, Address], Address]
Launch = Callable[["ClusterNode", Mapping[str, str]], LearnerProcess]
WaitReady = Callable[[LearnerProcess], None]
PORT_ATTEMPTS = 20


@dataclass
class ClusterNode:
    """One node: its fixed identity (id, ports, data folder, routes) and its current process, if any."""

    id: int
    port: int
    peer_port: int
    data_dir: Path
    peers: dict[int, Address] = field(default_factory=dict)
    process: LearnerProcess | None = None
    paused: bool = False
    stopped: bool = False  # the grader ended its current process (kill, or the cluster's stop)

    @property
    def address(self) -> Address:
        return LOOPBACK, self.port

    @property
    def peer_address(self) -> Address:
        return LOOPBACK, self.peer_port

    @property
    def running(self) -> bool:
        return self.process is not None and not self.stopped and self.process.exit_code() is None

    def env(self, size: int) -> dict[str, str]:
        peers = ",".join(f"{node}={host}:{port}" for node, (host, port) in sorted(self.peers.items()))
        return {
            "NODE_ID": str(self.id),
            "CLUSTER_SIZE": str(size),
            "PORT": str(self.port),
            "PEER_PORT": str(self.peer_port),
            "PEERS": peers,
            "DATA_DIR": str(self.data_dir),
        }


class Cluster:
    """N nodes of the learner's program. ``launch`` starts one node's process with the given environment,
    ``wait_ready`` waits until a started process is ready. Always :meth:`stop` (the fixture does)."""

    def __init__(
        self,
        size: int,
        *,
        data_root: Path,
        launch: Launch,
        wait_ready: WaitReady,
        peer_address: PeerAddress | None = None,
    ) -> None:
        if size < 1:
            raise ValueError(f"a cluster needs at least one node, not {size}")
        self._launch = launch
        self._wait_ready = wait_ready
        ports = _distinct_free_ports(2 * size)
        self.nodes = tuple(
            ClusterNode(id=i, port=ports[2 * i], peer_port=ports[2 * i + 1], data_dir=data_root / f"node-{i}")
            for i in range(size)
        )
        route = peer_address or (lambda _from, _to, direct: direct)
        for node in self.nodes:
            node.data_dir.mkdir(parents=True, exist_ok=True)
            node.peers = {
                peer.id: route(node.id, peer.id, peer.peer_address) for peer in self.nodes if peer is not node
            }

    def start(self) -> None:
        """Starts every node, then waits for each: a node may wait for its peers before it serves clients."""
        for node in self.nodes:
            self._spawn(node)
        for node in self.nodes:
            assert node.process is not None
            self._wait_ready(node.process)

    def node(self, i: int) -> ClusterNode:
        if not 0 <= i < len(self.nodes):
            raise IndexError(f"this cluster has nodes 0 to {len(self.nodes) - 1}, not {i}")
        return self.nodes[i]

    def kill(self, i: int) -> None:
        """SIGKILLs node i's whole process group (nothing it started survives); its data folder stays."""
        node = self.node(i)
        context.log(f"killed node {i} (SIGKILL)")
        self._end(node)

    def restart(self, i: int) -> ClusterNode:
        """Starts node i again on the same ports and data folder (killing it first if it runs) and waits until it
        is ready."""
        node = self.node(i)
        self._end(node)
        context.log(f"restarting node {i}")
        process = self._spawn(node)
        self._wait_ready(process)
        return node

    def pause(self, i: int) -> None:
        """SIGSTOPs node i: it keeps its sockets but answers nothing until :meth:`resume`."""
        node = self.node(i)
        if node.process is not None and not node.stopped:
            _signal_group(node.process, signal.SIGSTOP)
            node.paused = True
            context.log(f"paused node {i} (SIGSTOP)")

    def resume(self, i: int) -> None:
        node = self.node(i)
        if node.paused and node.process is not None:
            _signal_group(node.process, signal.SIGCONT)
            context.log(f"resumed node {i} (SIGCONT)")
        node.paused = False

    def stop(self) -> None:
        """Ends every node (a paused one is resumed first, so that it dies cleanly). Idempotent."""
        for node in self.nodes:
            self._end(node)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, node: ClusterNode) -> LearnerProcess:
        node.process = self._launch(node, node.env(len(self.nodes)))
        node.stopped = node.paused = False
        return node.process

    def _end(self, node: ClusterNode) -> None:
        if node.process is None or node.stopped:
            return
        self.resume(node.id)
        node.process.stop()
        node.stopped = True


@dataclass(frozen=True)
class NodeOutput:
    """What a failed check shows of one node's process: its stderr, labelled with the node's id."""

    node_id: int
    process: LearnerProcess

    def stderr_tail(self) -> str:
        tail = self.process.stderr_tail()
        return f"[node {self.node_id}]\n{tail}" if tail else ""

    def exit_code(self) -> int | None:
        return self.process.exit_code()

    @property
    def stopped_by_grader(self) -> bool:
        return bool(getattr(self.process, "stopped_by_grader", False))


def _signal_group(process: LearnerProcess, sig: signal.Signals) -> None:
    """Signals the program's process group (it leads one), so a launcher such as `go run` and the server it
    started stop and continue together. In the sandbox ``pid`` is the program's pid on the host, which names
    the same group. A node that has exited is left alone: its pid may already be another process's."""
    if process.exit_code() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    for _ in range(count * PORT_ATTEMPTS):  # free_port chooses at random among thousands: a repeat is rare
        if (port := free_port()) not in ports:
            ports.append(port)
        if len(ports) == count:
            return ports
    raise HarnessError(f"could not find {count} distinct free loopback ports for a cluster")
