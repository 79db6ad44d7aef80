"""An alternative solution: primary-backup with a majority and read leases, on threads and blocking sockets.

Unlike the reference (a Raft log, reads through the log, one-way messages on an event loop), this node keeps no
log: the primary applies each write to its state, ships the operation (or its whole state, to a backup that
lags or diverged) to the backups over request/response connections it opens, and answers once a majority
stored it. Reads are served from the primary's state while it holds a lease: a majority answered a message it
sent less than LEASE_S ago, and a backup that heard from a primary refuses to vote for ELECTION_MIN_S, which
is longer. A new primary is elected by a majority among the nodes whose state is at least as recent as theirs.
"""

from __future__ import annotations

import json
import os
import random
import socket
import socketserver
import threading
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
HEARTBEAT_S = 0.1
ELECTION_MIN_S, ELECTION_MAX_S = 1.0, 2.0
LEASE_S = 0.6  # shorter than ELECTION_MIN_S: no other primary can exist while it lasts
ANSWER_WITHIN_S = 1.5
RPC_TIMEOUT_S = 0.5


def error(name: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": name, **extra}


class State:
    """Everything a node promises, written to DATA_DIR/state.json (replaced atomically) before it answers."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "state.json"
        saved = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.view: int = saved.get("view", 0)
        self.voted_for: int | None = saved.get("voted_for")
        self.version: int = saved.get("version", 0)
        self.version_view: int = saved.get("version_view", 0)
        self.data: dict[str, str] = saved.get("data", {})
        self.answers: dict[str, dict[str, Any]] = saved.get("answers", {})

    def save(self) -> None:
        fields = ("view", "voted_for", "version", "version_view", "data", "answers")
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({name: getattr(self, name) for name in fields}))
        temporary.replace(self.path)

    def snapshot(self) -> dict[str, Any]:
        return {"version": self.version, "version_view": self.version_view, "data": self.data, "answers": self.answers}

    def install(self, snapshot: dict[str, Any]) -> None:
        self.version, self.version_view = snapshot["version"], snapshot["version_view"]
        self.data, self.answers = dict(snapshot["data"]), dict(snapshot["answers"])

    def apply(self, op: dict[str, Any]) -> dict[str, Any]:
        """Applies one operation (a repeated rid changes nothing) and returns its answer."""
        if op["op"] == "noop":
            return {}
        if op["rid"] in self.answers:
            return self.answers[op["rid"]]
        key = op["key"]
        if op["op"] == "put":
            self.data[key] = op["value"]
            answer: dict[str, Any] = {"ok": True}
        elif key not in self.data:
            answer = error("not_found")
        elif self.data[key] != op["from"]:
            answer = error("cas_mismatch", value=self.data[key])
        else:
            self.data[key] = op["to"]
            answer = {"ok": True}
        self.answers[op["rid"]] = answer
        return answer


class PeerLink:
    """This node's connection to one peer: one request at a time, answered on the same connection."""

    def __init__(self, peer_id: int, address: tuple[str, int]) -> None:
        self.id, self.address = peer_id, address
        self.sock: socket.socket | None = None
        self.reader: Any = None
        self.match = 0  # the peer's version known to equal ours (primary only)
        self.acked_sent_at = 0.0  # when the last request it acknowledged in this view was sent
        self.asked_view = -1  # the view in which it was last asked for a vote

    def call(self, message: dict[str, Any]) -> dict[str, Any] | None:
        try:
            if self.sock is None:
                self.sock = socket.create_connection(self.address, timeout=RPC_TIMEOUT_S)
                self.reader = self.sock.makefile("rb")
            self.sock.settimeout(RPC_TIMEOUT_S)
            self.sock.sendall(json.dumps(message).encode() + b"\n")
            line = self.reader.readline(1 << 24)
            if not line:
                raise OSError("closed")
            return dict(json.loads(line))
        except (OSError, ValueError):
            self.close()
            return None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = self.reader = None


class Node:
    def __init__(self) -> None:
        self.id = int(os.environ["NODE_ID"])
        self.size = int(os.environ.get("CLUSTER_SIZE", "1"))
        self.state = State(Path(os.environ.get("DATA_DIR", ".")))
        self.links = [PeerLink(pid, addr) for pid, addr in parse_peers(os.environ.get("PEERS", "")).items()]
        self.lock = threading.Condition()
        self.client_turn = threading.Lock()  # the primary serves one client operation at a time
        self.role, self.primary = "backup", None
        self.votes: set[int] = set()
        self.recent: dict[int, tuple[int, dict[str, Any]]] = {}  # version -> (view, op), for shipping ops
        self.commit = 0
        self.view_start = 0  # the version of this primary's first operation, a noop
        self.started = self.last_contact = time.monotonic()
        self.ticks = 0  # one per 50 ms of the election thread
        self.restarted = self.state.view > 0  # it may have acknowledged a lease before it died: wait before voting
        self.election_at = self.started + random.uniform(ELECTION_MIN_S, ELECTION_MAX_S)

    def majority(self) -> int:
        return self.size // 2 + 1

    # Elections (called with self.lock held).

    def adopt_view(self, view: int) -> None:
        if view > self.state.view:
            self.state.view, self.state.voted_for = view, None
            self.state.save()
            self.role, self.primary = "backup", None
            self.lock.notify_all()

    def start_election(self) -> None:
        self.state.view += 1
        self.state.voted_for = self.id
        self.state.save()
        self.role, self.primary, self.votes = "candidate", None, {self.id}
        self.election_at = time.monotonic() + random.uniform(ELECTION_MIN_S, ELECTION_MAX_S)
        self.count_votes()
        self.lock.notify_all()

    def count_votes(self) -> None:
        if self.role != "candidate" or len(self.votes) < self.majority():
            return
        self.role, self.primary = "primary", self.id
        for link in self.links:
            link.match, link.acked_sent_at = 0, 0.0
        self.view_start = self.state.version + 1  # earlier versions commit once this noop does
        self.append({"op": "noop"})

    def on_vote(self, msg: dict[str, Any]) -> dict[str, Any]:
        now = time.monotonic()
        sticky = now - self.last_contact < ELECTION_MIN_S and self.primary not in (None, msg["from"])
        waking = self.restarted and now - self.started < ELECTION_MIN_S
        if msg["view"] > self.state.view and not sticky and not waking:
            self.adopt_view(msg["view"])
        mine = (self.state.version_view, self.state.version)
        granted = (
            msg["view"] == self.state.view
            and self.state.voted_for in (None, msg["from"])
            and (msg["version_view"], msg["version"]) >= mine
        )
        if granted:
            self.state.voted_for = msg["from"]
            self.state.save()
            self.election_at = now + random.uniform(ELECTION_MIN_S, ELECTION_MAX_S)
        return {"view": self.state.view, "granted": granted}

    # Replication.

    def append(self, op: dict[str, Any]) -> tuple[dict[str, Any], int]:
        answer = self.state.apply(op)
        self.state.version += 1
        self.state.version_view = self.state.view
        self.recent[self.state.version] = (self.state.view, op)
        self.state.save()
        self.advance_commit()
        self.lock.notify_all()
        return answer, self.state.version

    def message_for(self, link: PeerLink) -> dict[str, Any]:
        base = {"view": self.state.view, "from": self.id}
        prev = link.match
        known = (prev == 0 and self.state.version_view == 0) or prev in self.recent
        if known and all(v in self.recent for v in range(prev + 1, self.state.version + 1)):
            prev_view = self.recent[prev][0] if prev in self.recent else 0
            ops = [[v, *self.recent[v]] for v in range(prev + 1, min(self.state.version, prev + 64) + 1)]
            return {**base, "type": "ops", "prev": [prev, prev_view], "ops": ops}
        return {**base, "type": "snapshot", "state": self.state.snapshot()}

    def on_ops(self, msg: dict[str, Any]) -> dict[str, Any]:
        if not self.heard_from_primary(msg):
            return {"view": self.state.view, "ok": False}
        if msg["type"] == "snapshot":
            self.state.install(msg["state"])
            self.recent.clear()
        else:
            prev, prev_view = msg["prev"]
            if (self.state.version, self.state.version_view) != (prev, prev_view):
                return {"view": self.state.view, "ok": False, "version": [self.state.version, self.state.version_view]}
            for version, view, op in msg["ops"]:
                self.state.apply(op)
                self.state.version, self.state.version_view = version, view
                self.recent[version] = (view, op)
        if msg["type"] == "snapshot" or msg["ops"]:
            self.state.save()
        return {"view": self.state.view, "ok": True, "version": [self.state.version, self.state.version_view]}

    def heard_from_primary(self, msg: dict[str, Any]) -> bool:
        if msg["view"] < self.state.view:
            return False
        self.adopt_view(msg["view"])
        self.role, self.primary = "backup", msg["from"]
        self.last_contact = time.monotonic()
        self.election_at = self.last_contact + random.uniform(ELECTION_MIN_S, ELECTION_MAX_S)
        return True

    def on_reply(self, link: PeerLink, sent: dict[str, Any], sent_at: float, reply: dict[str, Any]) -> None:
        if reply["view"] > self.state.view:
            self.adopt_view(reply["view"])
            return
        if sent["view"] != self.state.view:
            return
        if sent["type"] == "vote":
            if self.role == "candidate" and reply["granted"]:
                self.votes.add(link.id)
                self.count_votes()
            return
        if self.role != "primary":
            return
        link.acked_sent_at = max(link.acked_sent_at, sent_at)
        version, view = reply.get("version") or [0, -1]
        if reply["ok"] or self.recent.get(version, (None,))[0] == view:
            link.match = version
        else:
            link.match = -1  # unknown ground: send the whole state
        self.advance_commit()

    def advance_commit(self) -> None:
        if self.role != "primary":
            return
        held = sorted([self.state.version] + [link.match for link in self.links], reverse=True)
        candidate = held[self.majority() - 1]
        if candidate >= self.view_start and candidate > self.commit:
            self.commit = candidate
            self.lock.notify_all()

    def lease_valid(self) -> bool:
        if not self.links:
            return True
        acked = sorted((link.acked_sent_at for link in self.links), reverse=True)
        return self.ticks < acked[self.majority() - 2] + LEASE_S / 0.05

    # Threads.

    def peer_loop(self, link: PeerLink) -> None:
        while True:
            with self.lock:
                message = None
                if self.role == "primary":
                    message = self.message_for(link)
                elif self.role == "candidate" and link.asked_view != self.state.view:
                    link.asked_view = self.state.view
                    message = {
                        "type": "vote", "view": self.state.view, "from": self.id,
                        "version": self.state.version, "version_view": self.state.version_view,
                    }  # fmt: skip
                if message is None:
                    self.lock.wait(HEARTBEAT_S)
                    continue
            sent_at = self.ticks
            reply = link.call(message)
            with self.lock:
                if reply is not None:
                    self.on_reply(link, message, sent_at, reply)
                if reply is None:
                    self.lock.wait(0.2)  # the peer is down or cut off: do not hammer it
                elif self.role == "primary" and link.match == self.state.version:
                    self.lock.wait(HEARTBEAT_S)  # woken early by a new operation

    def election_loop(self) -> None:
        while True:
            time.sleep(0.05)
            with self.lock:
                self.ticks += 1
                if self.role != "primary" and time.monotonic() >= self.election_at:
                    self.start_election()

    def serve_client(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.client_turn:
            deadline = time.monotonic() + ANSWER_WITHIN_S
            with self.lock:
                if self.role != "primary":
                    return error("not_leader", leader=self.primary)
                view = self.state.view
                if request["op"] == "get":
                    return self._read(request["key"], deadline)
                if request["rid"] in self.state.answers:
                    answer, target = self.state.answers[request["rid"]], self.state.version
                else:
                    answer, target = self.append(request)
                while self.commit < target and self.role == "primary" and self.state.view == view:
                    if not self.lock.wait(max(0.0, deadline - time.monotonic())):
                        break
                if self.commit >= target and self.state.view == view:
                    return answer
                return error("unknown")  # stored here, maybe elsewhere: it may still take effect

    def _read(self, key: str, deadline: float) -> dict[str, Any]:
        """With self.lock held: once every write here is committed and the lease holds, from local state."""
        while not (self.commit >= self.state.version and self.lease_valid()):
            if self.role != "primary":
                return error("not_leader", leader=self.primary)
            if time.monotonic() >= deadline:
                return error("unavailable")  # a read changes nothing: a definite error is true
            self.lock.wait(0.02)
        value = self.state.data.get(key)
        return {"ok": True, "value": value} if value is not None else error("not_found")

    def run(self) -> None:
        with self.lock:
            if not self.links:
                self.start_election()
        for link in self.links:
            threading.Thread(target=self.peer_loop, args=(link,), daemon=True).start()
        node = self

        class Peers(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    msg = json.loads(line)
                    with node.lock:
                        reply = node.on_vote(msg) if msg["type"] == "vote" else node.on_ops(msg)
                    self.wfile.write(json.dumps(reply).encode() + b"\n")

        class Clients(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                while line := self.rfile.readline(16 * 1024):
                    request = parse_request(line)
                    answer = request if "error" in request else {"rid": request["rid"], **node.serve_client(request)}
                    self.wfile.write(json.dumps(answer).encode() + b"\n")

        if self.links:
            peer_server = Server((HOST, int(os.environ["PEER_PORT"])), Peers)
            threading.Thread(target=peer_server.serve_forever, daemon=True).start()
        threading.Thread(target=self.election_loop, daemon=True).start()
        Server((HOST, int(os.environ["PORT"])), Clients).serve_forever()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def parse_peers(text: str) -> dict[int, tuple[str, int]]:
    peers = {}
    for item in filter(None, text.split(",")):
        pid, address = item.split("=")
        host, port = address.rsplit(":", 1)
        peers[int(pid)] = (host, int(port))
    return peers


def parse_request(line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except ValueError:
        return {"rid": None, **error("bad_request")}
    rid = request.get("rid") if isinstance(request, dict) else None
    fields = {"get": ("key",), "put": ("key", "value"), "cas": ("key", "from", "to")}
    wanted = fields.get(request.get("op")) if isinstance(request, dict) else None
    if not isinstance(rid, str) or wanted is None or not all(isinstance(request.get(f), str) for f in wanted):
        return {"rid": rid if isinstance(rid, str) else None, **error("bad_request")}
    return {"rid": rid, "op": request["op"], **{f: request[f] for f in wanted}}


if __name__ == "__main__":
    Node().run()
