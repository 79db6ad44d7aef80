"""Run kind `cluster`: N real processes that find each other, survive restarts on their data, pause, and leave
nothing behind."""

from __future__ import annotations

import itertools
import json
import socket
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from labkit.catalog import Limits
from labkit.cluster import Address, Cluster, ClusterNode
from labkit.readiness import TcpReady
from labkit.supervisor import LaunchSpec, LearnerProcess
from labkit.sweep import marked_processes
from labkit.tools.tcpproxy import TcpProxy
from support import RUN_PREFIX
from throwaway import Stage, ThrowawayKit

PATIENT_S = 20.0
SILENCE_S = 1.0  # how long a paused node is given to (wrongly) answer

# A node: counts its starts in DATA_DIR; on its client port answers "info" with what it was given, and "peers"
# with the ids of the peers that answered a hello on their peer port, reached through PEERS.
NODE = """
import json, os, socket, threading

data = os.path.join(os.environ["DATA_DIR"], "starts")
starts = int(open(data).read()) + 1 if os.path.exists(data) else 1
with open(data, "w") as handle:
    handle.write(str(starts))
peers = dict(entry.split("=") for entry in os.environ["PEERS"].split(",") if entry)

def reach(address):
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2) as conn:
            conn.sendall(b"hello\\n")
            return conn.makefile().readline().strip()
    except OSError:
        return None

def answer(conn, peer):
    with conn:
        request = conn.makefile().readline().strip()
        if peer:
            reply = os.environ["NODE_ID"]
        elif request == "peers":
            reply = json.dumps(sorted(node for node, address in peers.items() if reach(address) == node))
        else:
            names = ("NODE_ID", "CLUSTER_SIZE", "PORT", "PEER_PORT", "PEERS", "DATA_DIR")
            reply = json.dumps({"starts": starts, "pid": os.getpid(), **{n: os.environ[n] for n in names}})
        conn.sendall(reply.encode() + b"\\n")

def serve(port, peer):
    listener = socket.socket(); listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(port))); listener.listen()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=answer, args=(conn, peer), daemon=True).start()

threading.Thread(target=serve, args=(os.environ["PEER_PORT"], True), daemon=True).start()
serve(os.environ["PORT"], False)
"""

_numbers = itertools.count()


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[Any]:
    script = tmp_path / "node.py"
    script.write_text(textwrap.dedent(NODE))
    clusters: list[Cluster] = []
    launched: list[LearnerProcess] = []

    def launch(node: ClusterNode, env: Mapping[str, str]) -> LearnerProcess:
        number = next(_numbers)
        spec = LaunchSpec(
            command=(sys.executable, str(script)), cwd=tmp_path, logs=tmp_path / f"logs{number}",
            marker=f"{RUN_PREFIX}node{number}", limits=Limits(), port=node.port, extra_env=env,
            writable=(node.data_dir,),
        )  # fmt: skip
        launched.append(process := LearnerProcess.start(spec))
        return process

    def make(size: int, **options: Any) -> Cluster:
        cluster = Cluster(
            size,
            data_root=tmp_path / "data",
            launch=launch,
            wait_ready=lambda process: TcpReady().wait(process, PATIENT_S),
            **options,
        )
        clusters.append(cluster)
        cluster.start()
        return cluster

    yield make
    for cluster in clusters:
        cluster.stop()
    leftovers = [process.spec.marker for process in launched if marked_processes(process.spec.marker)]
    assert not leftovers, f"processes of these nodes outlived the cluster: {leftovers}"


def ask(address: Address, request: str, timeout: float = PATIENT_S) -> Any:
    with socket.create_connection(address, timeout=timeout) as conn:
        conn.sendall(request.encode() + b"\n")
        return json.loads(conn.makefile().readline())


def test_nodes_get_distinct_ports_ids_data_and_their_peers(make_cluster: Any) -> None:
    cluster = make_cluster(3)
    infos = [ask(node.address, "info") for node in cluster.nodes]
    assert [info["NODE_ID"] for info in infos] == ["0", "1", "2"]
    assert {info["CLUSTER_SIZE"] for info in infos} == {"3"}
    ports = [int(info[name]) for info in infos for name in ("PORT", "PEER_PORT")]
    assert len(set(ports)) == 6
    assert len({info["DATA_DIR"] for info in infos}) == 3
    node0, node1, node2 = cluster.nodes
    assert infos[0]["PEERS"] == f"1=127.0.0.1:{node1.peer_port},2=127.0.0.1:{node2.peer_port}"
    assert infos[2]["PEERS"] == f"0=127.0.0.1:{node0.peer_port},1=127.0.0.1:{node1.peer_port}"
    assert [ask(node.address, "peers") for node in cluster.nodes] == [["1", "2"], ["0", "2"], ["0", "1"]]


def test_kill_then_restart_keeps_ports_and_data(make_cluster: Any) -> None:
    cluster = make_cluster(3)
    before = ask(cluster.nodes[1].address, "info")
    cluster.kill(1)
    assert not cluster.nodes[1].running
    with pytest.raises(ConnectionRefusedError):
        ask(cluster.nodes[1].address, "info")
    assert ask(cluster.nodes[0].address, "peers") == ["2"]  # the others run on
    cluster.restart(1)
    after = ask(cluster.nodes[1].address, "info")
    assert after["starts"] == 2 and after["pid"] != before["pid"]
    assert {k: v for k, v in after.items() if k not in ("starts", "pid")} == {
        k: v for k, v in before.items() if k not in ("starts", "pid")
    }
    assert ask(cluster.nodes[0].address, "peers") == ["1", "2"]


def test_restart_of_a_running_node_replaces_it(make_cluster: Any) -> None:
    cluster = make_cluster(1)
    first = ask(cluster.nodes[0].address, "info")["pid"]
    cluster.restart(0)
    assert ask(cluster.nodes[0].address, "info")["pid"] != first
    assert len(marked_processes(cluster.nodes[0].process.spec.marker)) == 1


def test_a_paused_node_answers_nothing_until_resumed(make_cluster: Any) -> None:
    cluster = make_cluster(2)
    cluster.pause(0)
    with socket.create_connection(cluster.nodes[0].address, timeout=PATIENT_S) as conn:  # the kernel still accepts
        conn.sendall(b"info\n")
        conn.settimeout(SILENCE_S)
        with pytest.raises(TimeoutError):
            conn.recv(100)
        assert ask(cluster.nodes[1].address, "peers") == []  # its peer port is silent too
        cluster.resume(0)
        conn.settimeout(PATIENT_S)
        assert json.loads(conn.makefile().readline())["NODE_ID"] == "0"  # the waiting request is served
    assert ask(cluster.nodes[1].address, "peers") == ["0"]


def test_stop_ends_paused_and_killed_nodes_alike(make_cluster: Any) -> None:
    cluster = make_cluster(3)
    cluster.pause(0)
    cluster.kill(1)
    markers = [node.process.spec.marker for node in cluster.nodes]
    cluster.stop()
    cluster.stop()  # idempotent
    assert not any(node.running for node in cluster.nodes)
    assert not [marker for marker in markers if marked_processes(marker)]


def test_peer_addresses_can_be_routed_through_a_proxy(make_cluster: Any) -> None:
    """The grader decides the address node i uses for node j: here node 0 reaches node 1 through a fault proxy."""
    proxies: dict[tuple[int, int], TcpProxy] = {}

    def route(source: int, target: int, direct: Address) -> Address:
        if (source, target) != (0, 1):
            return direct
        proxies[source, target] = TcpProxy(direct, label=f"{source}→{target}")
        return proxies[source, target].address

    try:
        cluster = make_cluster(3, peer_address=route)
        proxy = proxies[0, 1]
        assert cluster.nodes[0].peers[1] == proxy.address and cluster.nodes[2].peers[1] == cluster.nodes[1].peer_address
        assert ask(cluster.nodes[0].address, "peers") == ["1", "2"]
        assert proxy.stats().accepted == 1
        proxy.partition("reset")
        assert ask(cluster.nodes[0].address, "peers") == ["2"]
        assert ask(cluster.nodes[2].address, "peers") == ["0", "1"]  # only the link 0→1 is cut
    finally:
        for proxy in proxies.values():
            proxy.close()


# --- through the real grading path ---------------------------------------------------------------------------

STAGE_NODES = """
import json, socket

from labkit.checks import expect_equal


def ask(node, request):
    with socket.create_connection(node.address, timeout=20) as conn:
        conn.sendall(request.encode() + b"\\n")
        return json.loads(conn.makefile().readline())


def check_kill_restart_and_peers(start_cluster):
    cluster = start_cluster(3, env={"EXTRA": "yes"})
    expect_equal(ask(cluster.nodes[2], "peers"), ["0", "1"], "peers reached by node 2")
    cluster.kill(0)
    cluster.pause(1)
    cluster.restart(0)
    expect_equal(ask(cluster.nodes[0], "info")["starts"], 2, "starts recorded in node 0's data folder")
"""

STAGE_REPORT = """
import sys

from labkit.checks import fail


def check_fails_with_labelled_stderr(start_cluster):
    start_cluster(2)
    fail("deliberately failed")
"""


def test_a_cluster_lab_through_the_grading_path(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).lab(
        "cluster-demo",
        "cluster",
        run={"command": ["{python}", "node.py"], "ready_timeout": 20},
        stages={"nodes": Stage(STAGE_NODES, timeout=60), "report": Stage(STAGE_REPORT, timeout=60)},
    )
    announce = "import os, sys; print('node', os.environ['NODE_ID'], 'up', file=sys.stderr, flush=True)\n"
    impl = kit.impl({"node.py": announce + NODE})
    code, result = kit.grade("cluster-demo", impl=impl)
    nodes, report = result["labs"][0]["stages"]
    assert code == 1
    assert nodes["status"] == "passed", nodes["checks"]
    failure = report["checks"][0]
    assert failure["message"] == "deliberately failed"
    assert "[node 0]\nnode 0 up" in failure["stderr_tail"] and "[node 1]\nnode 1 up" in failure["stderr_tail"]
