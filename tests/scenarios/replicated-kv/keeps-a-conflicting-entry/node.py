"""The reference solution: a Raft node (README.md is the spec).

Design: one asyncio event loop per node. Every operation, reads included, is a log entry: the leader appends
it, replicates it, and answers once a majority holds it and it has been applied, so a deposed leader can never
answer from stale state. Messages between nodes are one-way JSON lines: a node sends everything (requests and
responses) over the connection it opened to the recipient, so each directed link carries one node's messages.
Term, vote and log are appended to DATA_DIR/raft.jsonl before a node answers anyone.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
HEARTBEAT_S = 0.075
ELECTION_S = (0.4, 0.8)
ANSWER_WITHIN_S = 1.0  # the README's 2 s, with room; no sooner, or a loaded machine's commits would be unknown
BATCH = 64
MAX_LINE = 16 * 1024


class Store:
    """Term, vote and log, persisted as appended JSON lines; replayed on start."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "raft.jsonl"
        self.term, self.vote = 0, None
        self.log: list[dict[str, Any]] = []  # log[i] is entry i + 1: {"term": t, "op": {...}}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    self._replay(json.loads(line))
                except (ValueError, KeyError):
                    break  # a torn last line: everything before it stands
        self.file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (open for the node's life)

    def _replay(self, record: dict[str, Any]) -> None:
        if "term" in record and "vote" in record and "entries" not in record:
            self.term, self.vote = record["term"], record["vote"]
        else:
            del self.log[record["after"] :]
            self.log.extend(record["entries"])

    def _write(self, record: dict[str, Any]) -> None:
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()  # in the kernel before anyone hears of it: survives a SIGKILL

    def set_term(self, term: int, vote: int | None) -> None:
        self.term, self.vote = term, vote
        self._write({"term": term, "vote": vote})

    def put_entries(self, after: int, entries: list[dict[str, Any]]) -> None:
        """Keeps the first ``after`` entries and appends ``entries``."""
        del self.log[after:]
        self.log.extend(entries)
        self._write({"after": after, "entries": entries})

    def last(self) -> tuple[int, int]:
        return len(self.log), (self.log[-1]["term"] if self.log else 0)

    def term_at(self, index: int) -> int:
        return self.log[index - 1]["term"] if 0 < index <= len(self.log) else 0


class StateMachine:
    """The key-value map and, per request id, the answer first given: a retried write is not applied again."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.answers: dict[str, dict[str, Any]] = {}

    def apply(self, op: dict[str, Any]) -> dict[str, Any]:
        rid, kind = op.get("rid"), op["op"]
        if kind == "noop":
            return {}
        if kind != "get" and rid in self.answers:
            return self.answers[rid]
        key = op["key"]
        if kind == "get":
            answer = {"ok": True, "value": self.data[key]} if key in self.data else _error("not_found")
        elif kind == "put":
            self.data[key] = op["value"]
            answer = {"ok": True}
        elif key not in self.data:
            answer = _error("not_found")
        elif self.data[key] != op["from"]:
            answer = {**_error("cas_mismatch"), "value": self.data[key]}
        else:
            self.data[key] = op["to"]
            answer = {"ok": True}
        if kind != "get":
            self.answers[rid] = answer
        return answer


def _error(name: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": name, **extra}


class Peer:
    """The connection this node opened to one other node: reconnects when it breaks, never blocks the node."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.writer: asyncio.StreamWriter | None = None
        self.connecting = False
        self.next_index = 1
        self.match_index = 0
        self.in_flight_until = 0.0  # an append sent and not yet answered, until then

    def send(self, message: dict[str, Any]) -> None:
        writer = self.writer
        if writer is None or writer.is_closing():
            self.writer = None
            if not self.connecting:
                asyncio.get_running_loop().create_task(self._connect())
            return
        if writer.transport.get_write_buffer_size() > 1024 * 1024:  # a silent peer: start afresh later
            writer.close()
            self.writer = None
            return
        writer.write((json.dumps(message) + "\n").encode())

    async def _connect(self) -> None:
        self.connecting = True
        try:
            _, self.writer = await asyncio.wait_for(asyncio.open_connection(*self.address), 1.0)
        except (TimeoutError, OSError):
            await asyncio.sleep(0.1)
        finally:
            self.connecting = False


class Node:
    def __init__(self) -> None:
        self.id = int(os.environ["NODE_ID"])
        self.size = int(os.environ.get("CLUSTER_SIZE", "1"))
        self.port = int(os.environ["PORT"])
        self.peer_port = int(os.environ.get("PEER_PORT", "0"))
        self.peers = {pid: Peer(addr) for pid, addr in _parse_peers(os.environ.get("PEERS", "")).items()}
        self.store = Store(Path(os.environ.get("DATA_DIR", ".")))
        self.machine = StateMachine()
        self.role = "follower"
        self.leader: int | None = None
        self.commit = self.applied = 0
        self.votes: set[int] = set()
        self.waiters: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.deadline = self._new_deadline()

    def _new_deadline(self) -> float:
        return time.monotonic() + random.uniform(*ELECTION_S)

    # Roles and elections.

    def majority(self) -> int:
        return self.size // 2 + 1

    def observe_term(self, term: int) -> None:
        if term > self.store.term:
            self.store.set_term(term, None)
            self.become_follower(None)

    def become_follower(self, leader: int | None) -> None:
        if self.role == "leader":
            self._fail_waiters("unknown")
        self.role, self.leader = "follower", leader

    def start_election(self) -> None:
        self.store.set_term(self.store.term + 1, self.id)
        self.role, self.leader, self.votes = "candidate", None, {self.id}
        self.deadline = self._new_deadline()
        last_index, last_term = self.store.last()
        for peer in self.peers.values():
            peer.send({"type": "vote", "term": self.store.term, "from": self.id, "last": [last_index, last_term]})
        self.count_votes()

    def count_votes(self) -> None:
        if self.role == "candidate" and len(self.votes) >= self.majority():
            self.role, self.leader = "leader", self.id
            for peer in self.peers.values():
                peer.next_index, peer.match_index, peer.in_flight_until = len(self.store.log) + 1, 0, 0.0
            self.append({"op": "noop"})  # entries of earlier terms commit once one of this term does

    def on_vote(self, msg: dict[str, Any]) -> None:
        self.observe_term(msg["term"])
        term, candidate = self.store.term, msg["from"]
        last_index, last_term = self.store.last()
        up_to_date = (msg["last"][1], msg["last"][0]) >= (last_term, last_index)
        granted = msg["term"] == term and self.store.vote in (None, candidate) and up_to_date
        if granted:
            if self.store.vote is None:
                self.store.set_term(term, candidate)
            self.deadline = self._new_deadline()
        self._to(candidate, {"type": "vote_reply", "term": term, "from": self.id, "granted": granted})

    def on_vote_reply(self, msg: dict[str, Any]) -> None:
        self.observe_term(msg["term"])
        if msg["granted"] and msg["term"] == self.store.term:
            self.votes.add(msg["from"])
            self.count_votes()

    # Replication.

    def append(self, op: dict[str, Any]) -> int:
        self.store.put_entries(len(self.store.log), [{"term": self.store.term, "op": op}])
        self.advance_commit()
        self.replicate(force=False)
        return len(self.store.log)

    def replicate(self, *, force: bool) -> None:
        now = time.monotonic()
        for pid, peer in self.peers.items():
            behind = peer.next_index <= len(self.store.log)
            if not force and (not behind or now < peer.in_flight_until):
                continue
            prev = peer.next_index - 1
            entries = self.store.log[prev : prev + BATCH]
            peer.in_flight_until = now + 4 * HEARTBEAT_S if entries else peer.in_flight_until
            self._to(
                pid,
                {
                    "type": "append",
                    "term": self.store.term,
                    "from": self.id,
                    "prev": [prev, self.store.term_at(prev)],
                    "entries": entries,
                    "commit": self.commit,
                },
            )

    def on_append(self, msg: dict[str, Any]) -> None:
        self.observe_term(msg["term"])
        term, leader = self.store.term, msg["from"]
        reply = {"type": "append_reply", "term": term, "from": self.id, "ok": False, "match": 0}
        if msg["term"] == term:
            self.become_follower(leader)
            self.deadline = self._new_deadline()
            prev, prev_term = msg["prev"]
            if prev > len(self.store.log):
                reply["match"] = len(self.store.log)  # a hint: send from there
            elif self.store.term_at(prev) != prev_term:
                conflict = self.store.term_at(prev)
                first = prev
                while first > 1 and self.store.term_at(first - 1) == conflict:
                    first -= 1
                reply["match"] = first - 1
            else:
                self._accept(prev, msg["entries"])
                match = prev + len(msg["entries"])
                self.commit = max(self.commit, min(msg["commit"], match))
                self.apply_committed()
                reply.update(ok=True, match=match)
        self._to(leader, reply)

    def _accept(self, prev: int, entries: list[dict[str, Any]]) -> None:
        for offset, entry in enumerate(entries):
            index = prev + 1 + offset
            if self.store.term_at(index) != entry["term"]:
                self.store.put_entries(index, entries[offset:])  # keeps the first conflicting entry
                return

    def on_append_reply(self, msg: dict[str, Any]) -> None:
        self.observe_term(msg["term"])
        peer = self.peers.get(msg["from"])
        if self.role != "leader" or msg["term"] != self.store.term or peer is None:
            return
        peer.in_flight_until = 0.0
        if msg["ok"]:
            peer.match_index = max(peer.match_index, msg["match"])
            peer.next_index = peer.match_index + 1
            self.advance_commit()
        else:
            peer.next_index = max(1, min(peer.next_index - 1, msg["match"] + 1))
        self.replicate(force=False)

    def advance_commit(self) -> None:
        if self.role != "leader":
            return
        for index in range(len(self.store.log), self.commit, -1):
            held = 1 + sum(peer.match_index >= index for peer in self.peers.values())
            if held >= self.majority() and self.store.term_at(index) == self.store.term:
                self.commit = index
                break
        self.apply_committed()

    def apply_committed(self) -> None:
        while self.applied < self.commit:
            self.applied += 1
            answer = self.machine.apply(self.store.log[self.applied - 1]["op"])
            waiter = self.waiters.pop(self.applied, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(answer)

    def _fail_waiters(self, error: str) -> None:
        for waiter in self.waiters.values():
            if not waiter.done():
                waiter.set_result(_error(error))
        self.waiters.clear()

    def _to(self, pid: int, message: dict[str, Any]) -> None:
        if pid in self.peers:
            self.peers[pid].send(message)

    # Clients.

    async def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.role != "leader":
            return _error("not_leader", leader=self.leader)
        index = len(self.store.log) + 1
        waiter = self.waiters[index] = asyncio.get_running_loop().create_future()
        self.append(request)  # a cluster of one commits it at once
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), ANSWER_WITHIN_S)
        except TimeoutError:
            self.waiters.pop(index, None)
            return _error("unknown")  # appended, not yet committed: it may still take effect

    async def serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                request = _parse_request(line)
                answer = request if "error" in request else {"rid": request["rid"], **(await self.answer(request))}
                writer.write((json.dumps(answer) + "\n").encode())
                await writer.drain()
        except (OSError, ValueError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def serve_peer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers = {
            "vote": self.on_vote,
            "vote_reply": self.on_vote_reply,
            "append": self.on_append,
            "append_reply": self.on_append_reply,
        }
        try:
            while line := await reader.readline():
                message = json.loads(line)
                handlers[message["type"]](message)
        except (OSError, ValueError, KeyError):
            pass
        finally:
            writer.close()

    async def tick(self) -> None:
        last_heartbeat = 0.0
        while True:
            await asyncio.sleep(HEARTBEAT_S / 4)
            if self.role == "leader":
                if time.monotonic() - last_heartbeat >= HEARTBEAT_S:
                    last_heartbeat = time.monotonic()
                    self.replicate(force=True)
            elif time.monotonic() >= self.deadline:
                self.start_election()

    async def run(self) -> None:
        if not self.peers:
            self.start_election()
        clients = await asyncio.start_server(self.serve_client, HOST, self.port, limit=MAX_LINE)
        servers = [clients]
        if self.peers:
            servers.append(await asyncio.start_server(self.serve_peer, HOST, self.peer_port, limit=1 << 24))
        await self.tick()


def _parse_peers(text: str) -> dict[int, tuple[str, int]]:
    peers = {}
    for item in filter(None, text.split(",")):
        pid, address = item.split("=")
        host, port = address.rsplit(":", 1)
        peers[int(pid)] = (host, int(port))
    return peers


def _parse_request(line: bytes) -> dict[str, Any]:
    """The request as a dict, or an error answer for a malformed one."""
    try:
        request = json.loads(line)
    except ValueError:
        return _error("bad_request")
    if not isinstance(request, dict):
        return _error("bad_request")
    rid, op = request.get("rid"), request.get("op")
    fields = {"get": ("key",), "put": ("key", "value"), "cas": ("key", "from", "to")}.get(op)
    if not isinstance(rid, str) or fields is None or not all(isinstance(request.get(f), str) for f in fields):
        return {"rid": rid if isinstance(rid, str) else None, **_error("bad_request")}
    return {"rid": rid, "op": op, **{f: request[f] for f in fields}}


if __name__ == "__main__":
    try:
        asyncio.run(Node().run())
    except KeyboardInterrupt:
        sys.exit(0)
