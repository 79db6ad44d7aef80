"""The grader's clients: JSON lines to a node's client port, redirects followed, every operation recorded."""

from __future__ import annotations

import json
import random
import socket
import time
from collections.abc import Sequence
from typing import Any

from history import History, Record
from labkit.checks import fail
from labkit.learners import Cluster
from linearizability import Kind, Value

REPLY_WAIT_S = 5.0  # the README's 2 s to answer, with room for a loaded machine
MAX_REPLY = 64 * 1024
RETRY_PAUSE_S = 0.05
PROTOCOL_HINT = "answer each request line with one JSON object on one line, carrying the request's rid (README)"
DEFINITE_RESULTS = ("not_found", "cas_mismatch")


class Connection:
    """One client connection to one node; one request at a time."""

    def __init__(self, node: int, port: int) -> None:
        self.node = node
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=2.0)
        self.buffer = b""

    def send(self, request: dict[str, Any] | bytes) -> None:
        line = request if isinstance(request, bytes) else json.dumps(request).encode() + b"\n"
        self.sock.sendall(line)

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next reply, or None when none came within ``timeout`` or the node closed the connection."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or len(self.buffer) > MAX_REPLY:
                return None
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except (TimeoutError, OSError):
                return None
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            fail(f"node {self.node} answered a line that is not JSON", got=repr(line[:200]), hint=PROTOCOL_HINT)
        if not isinstance(reply, dict):
            fail(f"node {self.node} answered JSON that is not an object", got=repr(line[:200]), hint=PROTOCOL_HINT)
        return reply

    def close(self) -> None:
        self.sock.close()


class Client:
    """One client: its own request ids and connections. ``call`` follows redirects until ``within``."""

    def __init__(self, kv: Kv, number: int) -> None:
        self.kv, self.number = kv, number
        self.sent = 0
        self.connections: dict[int, Connection] = {}

    def next_rid(self) -> str:
        self.sent += 1
        return f"c{self.number}-{self.kv.tag}-{self.sent}"

    def ask(self, node: int, request: dict[str, Any] | bytes, wait: float = REPLY_WAIT_S) -> dict[str, Any] | None:
        """One request to one node: its reply, or None (refused, closed, or no answer within ``wait``)."""
        try:
            connection = self.connections.get(node) or Connection(node, self.kv.cluster.nodes[node].port)
            self.connections[node] = connection
            connection.send(request)
        except OSError:
            self._drop(node)
            return None
        reply = connection.receive(wait)
        if reply is None:
            self._drop(node)
        elif isinstance(request, dict) and reply.get("rid") != request.get("rid"):
            fail(
                f"node {node} answered request {request.get('rid')!r} with another rid",
                expected=f"rid {request.get('rid')!r}",
                got=json.dumps(reply)[:300],
                hint=PROTOCOL_HINT,
            )
        return reply

    def _drop(self, node: int) -> None:
        connection = self.connections.pop(node, None)
        if connection is not None:
            connection.close()

    def get(self, key: str, **how: Any) -> Record:
        return self.call("get", key, **how)

    def put(self, key: str, value: str, **how: Any) -> Record:
        return self.call("put", key, value, **how)

    def cas(self, key: str, expected: str, value: str, **how: Any) -> Record:
        return self.call("cas", key, value, expected, **how)

    def call(
        self,
        kind: Kind,
        key: str,
        value: Value = None,
        expected: Value = None,
        *,
        via: int | None = None,
        follow: bool = True,
        within: float = 10.0,
        wait: float = REPLY_WAIT_S,
    ) -> Record:
        """Sends the operation (to ``via``, else the last known leader) and, with ``follow``, retries with the same
        rid where a node redirects or cannot tell, until a definite answer or ``within`` seconds."""
        record = self.kv.history.invoke(self.number, kind, key, value, expected)
        request: dict[str, Any] = {"rid": self.next_rid(), "op": kind, "key": key}
        if kind == "put":
            request["value"] = value
        elif kind == "cas":
            request.update({"from": expected, "to": value})
        node = self.kv.leader if via is None else via
        deadline = time.monotonic() + within
        uncertain = redirected = False
        while True:
            reply = self.ask(node, request, min(wait, max(0.5, deadline - time.monotonic())))
            error = None if reply is None else reply.get("error")
            record.replies.append(f"node {node}: {_summary(reply)}")
            if reply is not None and (reply.get("ok") is True or error in DEFINITE_RESULTS):
                self.kv.leader = node
                self.kv.history.complete(record, "ok", _output(kind, reply))
                return record
            if reply is not None and error not in ("not_leader", "unavailable", "unknown"):
                fail(
                    f"node {node} answered {kind} {key} with neither ok nor an error the README defines",
                    got=json.dumps(reply)[:300],
                    hint="answer ok: true, or ok: false with an error: not_found, cas_mismatch, not_leader, "
                    "unavailable, unknown or bad_request (README, 'The client protocol')",
                )
            uncertain = uncertain or reply is None or error == "unknown"
            if not follow or time.monotonic() >= deadline:
                self.kv.history.complete(record, "info" if uncertain else "fail")
                return record
            named = reply is not None and error == "not_leader" and reply.get("leader") not in (None, node)
            node = self._next_target(node, reply)
            if not named or redirected:  # a leader named is asked at once, once; otherwise the cluster gets a moment
                time.sleep(RETRY_PAUSE_S)
            redirected = named

    def _next_target(self, node: int, reply: dict[str, Any] | None) -> int:
        hint = None if reply is None else reply.get("leader")
        size = len(self.kv.cluster.nodes)
        if isinstance(hint, int) and 0 <= hint < size and hint != node:
            return hint
        return (node + 1) % size

    def close(self) -> None:
        for node in list(self.connections):
            self._drop(node)


def _summary(reply: dict[str, Any] | None) -> str:
    if reply is None:
        return "no answer"
    if reply.get("ok") is True:
        return "ok"
    return str(reply.get("error"))


def _output(kind: Kind, reply: dict[str, Any]) -> Value | bool:
    if kind == "get":
        value = reply.get("value") if reply.get("ok") is True else None
        if reply.get("ok") is True and not isinstance(value, str):
            fail("a get answered ok without a string value", got=json.dumps(reply)[:300], hint=PROTOCOL_HINT)
        return value
    if kind == "cas":
        return reply.get("ok") is True
    return None


class Kv:
    """The clients of one cluster, sharing one history and what they learned of the leader."""

    def __init__(self, cluster: Cluster, rng: random.Random) -> None:
        self.cluster = cluster
        self.history = History()
        self.tag = f"{rng.getrandbits(32):08x}"  # request ids differ between checks and runs
        self.leader = 0
        self.clients: list[Client] = []

    def client(self) -> Client:
        client = Client(self, len(self.clients))
        self.clients.append(client)
        return client

    def find_leader(self, within: float = 10.0, among: Sequence[int] | None = None) -> int | None:
        """The node that accepts a write itself (the others redirect), polled until ``within``. The probe writes a
        key no check reads: a write, not a read, so that a node serving reads it should not cannot pass for it."""
        probe = self.client()
        nodes = list(range(len(self.cluster.nodes)) if among is None else among)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for node in nodes:
                if not self.cluster.nodes[node].running:
                    continue
                request = {"rid": probe.next_rid(), "op": "put", "key": "leader-probe", "value": "probe"}
                reply = probe.ask(node, request, 1.0)
                if reply is not None and reply.get("ok") is True:
                    self.leader = node
                    return node
            time.sleep(0.1)
        return None

    def close(self) -> None:
        for client in self.clients:
            client.close()
