"""The grader's own model of the store, seeded workloads, and the comparison of the learner's store with both."""

from __future__ import annotations

import random
import socket
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from labkit.checks import fail, log
from labkit.render import escape_bytes
from labkit.tools.kvproto import DELETE, GET, NOT_FOUND, OK, SET, STATUS_NAMES, KvClient, request
from lsmwire import scan

REPLY_TIMEOUT_S = 10.0
WINDOW = 16  # requests in flight at most, as README.md promises


@dataclass(frozen=True)
class Op:
    op: int  # SET or DELETE
    key: bytes
    value: bytes = b""

    def describe(self) -> str:
        if self.op == SET:
            return f"SET {escape_bytes(self.key, 24)} = {escape_bytes(self.value, 16)} ({len(self.value)} bytes)"
        return f"DELETE {escape_bytes(self.key, 24)}"


@dataclass
class Model:
    """What the store must hold. ``doubt`` lists, per key, the values an unacknowledged change may have left."""

    data: dict[bytes, bytes] = field(default_factory=dict)
    touched: set[bytes] = field(default_factory=set)
    doubt: dict[bytes, list[bytes | None]] = field(default_factory=dict)

    def expected_status(self, op: Op) -> int:
        return NOT_FOUND if op.op == DELETE and op.key not in self.data else OK

    def apply(self, op: Op) -> None:
        self.touched.add(op.key)
        if op.op == SET:
            self.data[op.key] = op.value
        else:
            self.data.pop(op.key, None)

    def unacknowledged(self, ops: Sequence[Op]) -> None:
        """``ops`` were sent, in order, and not answered: any prefix of them may have happened."""
        state = dict(self.data)
        for op in ops:
            self.touched.add(op.key)
            if op.op == SET:
                state[op.key] = op.value
            else:
                state.pop(op.key, None)
            self.doubt.setdefault(op.key, []).append(state.get(op.key))

    def live_bytes(self) -> int:
        return sum(len(key) + len(value) for key, value in self.data.items())


def random_key(rng: random.Random, prefix: str = "k") -> bytes:
    return f"{prefix}{rng.randrange(10**8):08d}".encode()


def random_value(rng: random.Random, low: int = 10, high: int = 200) -> bytes:
    return rng.randbytes(rng.randint(low, high))


def distinct_keys(rng: random.Random, count: int, prefix: str = "k") -> list[bytes]:
    keys: set[bytes] = set()
    while len(keys) < count:
        keys.add(random_key(rng, prefix))
    ordered = sorted(keys)  # a set's order changes with each process's hash seed: sort, then shuffle
    rng.shuffle(ordered)
    return ordered


def overwrite_workload(rng: random.Random, keys: Sequence[bytes], rounds: int, delete_share: float) -> list[Op]:
    ops = []
    for _ in range(rounds):
        for key in keys:
            if rng.random() < delete_share:
                ops.append(Op(DELETE, key))
            else:
                ops.append(Op(SET, key, random_value(rng)))
    return ops


def filler(rng: random.Random, prefix: str, total_bytes: int) -> list[Op]:
    """SETs of fresh keys worth ``total_bytes`` of keys and values: enough to flush the memtable that many times
    over its limit."""
    ops, size = [], 0
    for key in distinct_keys(rng, total_bytes // 60 + 1, prefix):
        value = random_value(rng, 60, 120)
        ops.append(Op(SET, key, value))
        size += len(key) + len(value)
        if size > total_bytes:
            break
    return ops


class Killed(Exception):
    """The connection ended while the grader waited for a reply: the server was killed (by the grader)."""


class Pipeline:
    """A raw connection that keeps up to WINDOW requests in flight and checks each reply against the model."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            try:
                chunk = self.sock.recv(1 << 16)
            except TimeoutError:
                fail(
                    f"no reply within {REPLY_TIMEOUT_S:g} s to a pipelined request",
                    hint="answer every request; a flush or compaction must not stall replies for seconds",
                )
            except ConnectionError as error:
                raise Killed from error
            if not chunk:
                raise Killed
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def reply(self) -> tuple[int, bytes]:
        (length,) = struct.unpack(">I", self._read(4))
        body = self._read(length)
        return (body[0], body[1:]) if body else (-1, b"")

    def run(
        self,
        model: Model,
        ops: Sequence[Op],
        *,
        stop_after: int | None = None,
        kill: Callable[[], None] | None = None,
        killed_elsewhere: bool = False,
    ) -> int:
        """Sends ``ops`` with WINDOW in flight, applying each acknowledged one to ``model``. After ``stop_after``
        replies ``kill`` is called with requests still in flight. When the grader kills the server from elsewhere
        (``killed_elsewhere``), a connection that ends stops the run too; otherwise it is the server's fault.
        Requests sent and not answered are recorded as unacknowledged. Returns the number acknowledged."""
        sent = acked = 0
        killed_here = False
        try:
            while acked < len(ops):
                while sent < len(ops) and sent - acked < WINDOW:
                    op = ops[sent]
                    try:
                        self.sock.sendall(request(op.op, op.key, op.value))
                    except ConnectionError as error:
                        raise Killed from error
                    sent += 1
                if stop_after is not None and acked >= stop_after and kill is not None:
                    kill()
                    killed_here = True
                    raise Killed
                status, payload = self.reply()
                op = ops[acked]
                expected = model.expected_status(op)
                if status != expected:
                    fail(
                        f"the reply to {op.describe()} (request {acked + 1} of a pipelined workload) is wrong",
                        expected=f"status {STATUS_NAMES[expected]}",
                        got=f"status {STATUS_NAMES.get(status, status)} {escape_bytes(payload, 40)}",
                        hint="DELETE answers NOT_FOUND only when the key is not there; SET always answers OK",
                    )
                model.apply(op)
                acked += 1
        except Killed:
            if not (killed_here or killed_elsewhere):
                fail(
                    f"the connection ended after {acked} of {len(ops)} pipelined requests had been answered",
                    expected="a reply to every request, in order",
                    hint="the server must not close a connection or die in the middle of a workload (see its stderr)",
                )
            model.unacknowledged(ops[acked:sent])
            log(f"grader: {acked} requests acknowledged, {sent - acked} in flight when the server died")
        return acked


def run_ops(port: int, model: Model, ops: Sequence[Op]) -> None:
    """Runs ``ops`` on a connection of their own, pipelined, with no kill."""
    with Pipeline(port) as pipe:
        pipe.run(model, ops)


def compare_with_model(client: KvClient, model: Model, after: str, *, full_scan: bool = True) -> None:
    """Every key ever touched holds its acknowledged value (or one an unacknowledged change allows), and a full
    SCAN holds exactly those keys: nothing acknowledged is lost and nothing never written appears. The flush stage,
    which comes before the scan stage, leaves the SCAN out."""
    for key in sorted(model.touched):
        allowed = [model.data.get(key), *model.doubt.get(key, [])]
        got = _get(client, key)
        if got not in allowed:
            expected = allowed[0]
            fail(
                f"after {after}, GET {escape_bytes(key, 40)} returns the wrong thing",
                expected=_show(expected)
                + (" (or the value of a change that was not acknowledged)" if len(allowed) > 1 else ""),
                got=_show(got),
                hint=_hint(expected, got),
            )
        if got is None:
            model.data.pop(key, None)
        else:
            model.data[key] = got
    model.doubt.clear()
    if not full_scan:
        return
    pairs = scan(client, b"", b"")
    expected_pairs = sorted(model.data.items())
    if pairs != expected_pairs:
        got_keys = [key for key, _ in pairs]
        extra = sorted(set(got_keys) - set(model.data))
        missing = sorted(set(model.data) - set(got_keys))
        fail(
            f"after {after}, a SCAN of the whole store differs from what GET returned",
            expected=f"{len(expected_pairs)} pairs, in key order",
            got=f"{len(pairs)} pairs; never written or deleted: {_keys(extra)}; missing: {_keys(missing)}"
            + ("" if extra or missing else "; same keys, but a value or the order differs"),
            hint="SCAN merges the memtable and every SSTable, newest version first, and leaves tombstones out",
        )


def _get(client: KvClient, key: bytes) -> bytes | None:
    status, payload = client.exchange(bytes([GET]) + struct.pack(">H", len(key)) + key, f"GET {escape_bytes(key)}")
    if status not in (OK, NOT_FOUND):
        fail(f"GET {escape_bytes(key)} was answered {STATUS_NAMES.get(status, status)}", got=escape_bytes(payload, 60))
    return payload if status == OK else None


def _show(value: bytes | None) -> str:
    return "NOT_FOUND" if value is None else f"OK {escape_bytes(value, 32)} ({len(value)} bytes)"


def _keys(keys: Sequence[bytes]) -> str:
    return (", ".join(escape_bytes(k, 24) for k in keys[:5]) + (" ..." if len(keys) > 5 else "")) or "none"


def _hint(expected: bytes | None, got: bytes | None) -> str:
    if expected is not None and got is None:
        return "an acknowledged write is gone: log it and fsync before you reply, and replay every WAL at start-up"
    if expected is None and got is not None:
        return "a deleted key came back: a tombstone must hide every older version until no older version is left"
    return "an older version won: read the memtable, then SSTables from the newest to the oldest"
