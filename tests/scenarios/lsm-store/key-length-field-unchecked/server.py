"""lsm-store reference: an LSM-tree key-value server (README.md is the specification).

Design: one thread per connection and one lock around the engine. Every change is appended to the current WAL
file and fsynced before its reply. A memtable past MEMTABLE_BYTES is flushed, before the reply, to a level-0
SSTable; when level 0 holds four tables they are merged with level 1 (one table, the bottom level, so tombstones
are dropped there). The live tables are named by MANIFEST, a JSON file replaced by an atomic rename; a file is
deleted only after the MANIFEST that no longer names it is durable, and files it does not name are removed at
start-up (what a killed flush or compaction left behind).

Run it with:   PORT=7070 DATA_DIR=/tmp/lsm-data MEMTABLE_BYTES=4096 python3 server.py
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import zlib
from collections.abc import Iterator

HOST = "127.0.0.1"
MAX_FRAME = 4 * 1024 * 1024
MAX_KEY = 1024
MAX_VALUE = 65536
GET, SET, DELETE, SCAN, STATS = 0x01, 0x02, 0x03, 0x04, 0x05
OK, NOT_FOUND, ERROR = 0x00, 0x01, 0x02
L0_LIMIT = 4
BLOOM_BITS_PER_KEY, BLOOM_HASHES = 10, 7
TOMBSTONE = None


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: str, data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temporary file and a rename, so a reader sees all of it or nothing."""
    temporary = path + ".tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fsync_dir(os.path.dirname(path))


class Bloom:
    def __init__(self, bits: bytes, size: int) -> None:
        self.bits = bits
        self.size = size

    @staticmethod
    def positions(key: bytes, size: int) -> Iterator[int]:
        digest = hashlib.blake2b(key, digest_size=16).digest()
        first, step = int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:], "big") | 1
        for i in range(BLOOM_HASHES):
            yield (first + i * step) % size

    @classmethod
    def of(cls, keys: list[bytes]) -> Bloom:
        size = max(64, BLOOM_BITS_PER_KEY * len(keys))
        bits = bytearray((size + 7) // 8)
        for key in keys:
            for position in cls.positions(key, size):
                bits[position // 8] |= 1 << (position % 8)
        return cls(bytes(bits), size)

    def may_hold(self, key: bytes) -> bool:
        return all(self.bits[p // 8] & (1 << (p % 8)) for p in self.positions(key, self.size))


class SSTable:
    """A sorted, immutable file: entries, then the bloom filter, then the index (key, offset), then a footer.

    An entry is key_len u16, key, kind u8 (0 value, 1 tombstone), value_len u32, value."""

    FOOTER = struct.Struct(">IIIII")  # entries, bloom offset, bloom bits, index offset, magic
    MAGIC = 0x15A7AB1E

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "rb") as handle:
            data = handle.read()
        count, bloom_at, bloom_size, index_at, magic = self.FOOTER.unpack_from(data, len(data) - self.FOOTER.size)
        if magic != self.MAGIC:
            raise ValueError(f"{path} is not an SSTable")
        self.bloom = Bloom(data[bloom_at:index_at], bloom_size)
        self.keys: list[bytes] = []
        self.offsets: list[int] = []
        at = index_at
        for _ in range(count):
            (key_len,) = struct.unpack_from(">H", data, at)
            self.keys.append(data[at + 2 : at + 2 + key_len])
            (offset,) = struct.unpack_from(">I", data, at + 2 + key_len)
            self.offsets.append(offset)
            at += 6 + key_len
        self.data_end = bloom_at

    @staticmethod
    def write(path: str, entries: list[tuple[bytes, bytes | None]]) -> None:
        data, index = bytearray(), bytearray()
        for key, value in entries:
            index += struct.pack(">H", len(key)) + key + struct.pack(">I", len(data))
            kind, payload = (1, b"") if value is TOMBSTONE else (0, value)
            data += struct.pack(">H", len(key)) + key + struct.pack(">BI", kind, len(payload)) + payload
        bloom = Bloom.of([key for key, _ in entries])
        bloom_at = len(data)
        data += bloom.bits
        index_at = len(data)
        data += index
        data += SSTable.FOOTER.pack(len(entries), bloom_at, bloom.size, index_at, SSTable.MAGIC)
        write_durably(path, bytes(data))

    def rules_out(self, key: bytes) -> bool:
        if not self.keys or key < self.keys[0] or key > self.keys[-1]:
            return True
        return not self.bloom.may_hold(key)

    def search(self, key: bytes) -> tuple[bool, bytes | None]:
        i = bisect.bisect_left(self.keys, key)
        if i == len(self.keys) or self.keys[i] != key:
            return False, None
        with open(self.path, "rb") as handle:
            handle.seek(self.offsets[i])
            entry = handle.read(2 + len(key) + 5)
            kind, length = struct.unpack_from(">BI", entry, 2 + len(key))
            return True, TOMBSTONE if kind == 1 else handle.read(length)

    def entries(self) -> Iterator[tuple[bytes, bytes | None]]:
        with open(self.path, "rb") as handle:
            data = handle.read(self.data_end)
        at = 0
        while at < len(data):
            (key_len,) = struct.unpack_from(">H", data, at)
            key = data[at + 2 : at + 2 + key_len]
            kind, length = struct.unpack_from(">BI", data, at + 2 + key_len)
            start = at + 7 + key_len
            yield key, TOMBSTONE if kind == 1 else data[start : start + length]
            at = start + length


class Engine:
    def __init__(self, folder: str, memtable_limit: int) -> None:
        self.folder = folder
        self.wal_dir = os.path.join(folder, "wal")
        self.sst_dir = os.path.join(folder, "sst")
        self.manifest = os.path.join(folder, "MANIFEST")
        self.memtable_limit = memtable_limit
        self.lock = threading.Lock()
        self.memtable: dict[bytes, bytes | None] = {}
        self.memtable_size = 0
        self.files_read = 0
        os.makedirs(self.wal_dir, exist_ok=True)
        os.makedirs(self.sst_dir, exist_ok=True)
        self.next_id, self.l0, self.l1 = self.load_manifest()
        self.remove_unlisted_tables()
        self.wal_numbers = self.replay_wals()
        self.wal_number = self.wal_numbers[-1] if self.wal_numbers else 1
        self.wal_numbers = sorted({*self.wal_numbers, self.wal_number})
        self.wal = os.open(self.wal_path(self.wal_number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        fsync_dir(self.wal_dir)
        if self.memtable_size > self.memtable_limit:
            self.flush()

    # --- metadata ---------------------------------------------------------------------------------------------

    def load_manifest(self) -> tuple[int, list[SSTable], list[SSTable]]:
        if not os.path.exists(self.manifest):
            return 1, [], []
        with open(self.manifest) as handle:
            state = json.load(handle)
        return state["next"], [self.table(n) for n in state["l0"]], [self.table(n) for n in state["l1"]]

    def save_manifest(self) -> None:
        state = {"next": self.next_id, "l0": [self.number(t) for t in self.l0], "l1": [self.number(t) for t in self.l1]}
        write_durably(self.manifest, json.dumps(state).encode())

    def table(self, number: int) -> SSTable:
        return SSTable(os.path.join(self.sst_dir, f"{number}.sst"))

    @staticmethod
    def number(table: SSTable) -> int:
        return int(os.path.basename(table.path).split(".")[0])

    def remove_unlisted_tables(self) -> None:
        live = {os.path.basename(t.path) for t in self.l0 + self.l1}
        for name in os.listdir(self.sst_dir):
            if name not in live:
                os.remove(os.path.join(self.sst_dir, name))

    def new_table(self, entries: list[tuple[bytes, bytes | None]]) -> SSTable:
        number = self.next_id
        self.next_id += 1
        path = os.path.join(self.sst_dir, f"{number}.sst")
        SSTable.write(path, entries)
        return SSTable(path)

    # --- the write-ahead log ------------------------------------------------------------------------------------

    def wal_path(self, number: int) -> str:
        return os.path.join(self.wal_dir, f"{number:08d}.wal")

    def replay_wals(self) -> list[int]:
        numbers = sorted(int(name[:-4]) for name in os.listdir(self.wal_dir) if name.endswith(".wal"))
        for number in numbers:
            self.replay(self.wal_path(number))
        return numbers

    def replay(self, path: str) -> None:
        with open(path, "rb") as handle:
            data = handle.read()
        at = 0
        while at < len(data):
            if len(data) - at < 8:
                break
            length, crc = struct.unpack_from(">II", data, at)
            body = data[at + 8 : at + 8 + length]
            if length == 0 or length > MAX_FRAME or len(body) < length or zlib.crc32(body) != crc:
                break
            self.apply(body)
            at += 8 + length
        if at < len(data):
            os.truncate(path, at)
            print(f"wal: dropped {len(data) - at} bytes at offset {at} of {os.path.basename(path)}", file=sys.stderr)

    def log(self, body: bytes) -> None:
        record = struct.pack(">II", len(body), zlib.crc32(body)) + body
        view = memoryview(record)
        while view:
            view = view[os.write(self.wal, view) :]
        os.fsync(self.wal)

    # --- reads and writes ---------------------------------------------------------------------------------------

    def apply(self, body: bytes) -> None:
        (key_len,) = struct.unpack_from(">H", body, 1)
        key = body[3 : 3 + key_len]
        value = body[3 + key_len :] if body[0] == SET else TOMBSTONE
        if key in self.memtable:
            self.memtable_size -= len(key) + len(self.memtable[key] or b"")
        self.memtable[key] = value
        self.memtable_size += len(key) + len(value or b"")

    def lookup(self, key: bytes) -> bytes | None:
        if key in self.memtable:
            self.files_read = 0
            return self.memtable[key]
        read = 0
        for table in self.l0 + self.l1:  # l0 is newest first
            if table.rules_out(key):
                continue
            read += 1
            found, value = table.search(key)
            if found:
                self.files_read = read
                return value
        self.files_read = read
        return TOMBSTONE

    def get(self, key: bytes) -> bytes | None:
        with self.lock:
            return self.lookup(key)

    def change(self, body: bytes) -> bool:
        """Logs and applies a SET or DELETE; False for a DELETE of a missing key (nothing is logged)."""
        with self.lock:
            if body[0] == DELETE:
                (key_len,) = struct.unpack_from(">H", body, 1)
                last_get_read = self.files_read  # STATS reports the last GET's reads, not this lookup's
                missing = self.lookup(body[3 : 3 + key_len]) is TOMBSTONE
                self.files_read = last_get_read
                if missing:
                    return False
            self.log(body)
            self.apply(body)
            if self.memtable_size > self.memtable_limit:
                self.flush()
            return True

    def flush(self) -> None:
        table = self.new_table(sorted(self.memtable.items()))
        self.l0.insert(0, table)
        self.save_manifest()
        flushed = self.wal_numbers
        os.close(self.wal)
        self.wal_number = max(flushed) + 1
        self.wal = os.open(self.wal_path(self.wal_number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        fsync_dir(self.wal_dir)
        for number in flushed:
            os.remove(self.wal_path(number))
        self.wal_numbers = [self.wal_number]
        self.memtable, self.memtable_size = {}, 0
        if len(self.l0) >= L0_LIMIT:
            self.compact()

    def compact(self) -> None:
        merged: dict[bytes, bytes | None] = {}
        inputs = self.l0 + self.l1
        for table in reversed(inputs):  # oldest first, so newer versions overwrite older ones
            merged.update(table.entries())
        live = sorted((key, value) for key, value in merged.items() if value is not TOMBSTONE)  # the bottom level
        self.l0, self.l1 = [], [self.new_table(live)] if live else []
        self.save_manifest()
        for table in inputs:
            os.remove(table.path)

    def scan(self, start: bytes, end: bytes) -> list[tuple[bytes, bytes]]:
        with self.lock:
            merged: dict[bytes, bytes | None] = {}
            for table in reversed(self.l0 + self.l1):
                merged.update(item for item in table.entries() if start <= item[0] and (not end or item[0] < end))
            merged.update((k, v) for k, v in self.memtable.items() if start <= k and (not end or k < end))
            return sorted((k, v) for k, v in merged.items() if v is not TOMBSTONE)

    def stats(self) -> bytes:
        with self.lock:
            size = 0
            for root, _, files in os.walk(self.folder):
                for name in files:
                    try:
                        size += os.path.getsize(os.path.join(root, name))
                    except FileNotFoundError:
                        continue
            state = {"levels": [len(self.l0), len(self.l1)], "bytes_on_disk": size, "files_read": self.files_read}
            return json.dumps(state).encode()


# --- the protocol -------------------------------------------------------------------------------------------------


def reply(status: int, payload: bytes = b"") -> bytes:
    return struct.pack(">IB", 1 + len(payload), status) + payload


def malformed(body: bytes) -> str | None:
    """Why a request body breaks the rules of README.md ("Replies"), or None."""
    if not body:
        return "empty body"
    op = body[0]
    if op == STATS:
        return None if len(body) == 1 else "STATS has no fields"
    if op == SCAN:
        if len(body) < 3:
            return "SCAN too short"
        (start_len,) = struct.unpack_from(">H", body, 1)
        if start_len > MAX_KEY or len(body) < 5 + start_len:
            return "bad start_len"
        (end_len,) = struct.unpack_from(">H", body, 3 + start_len)
        if end_len > MAX_KEY or len(body) != 5 + start_len + end_len:
            return "bad end_len"
        return None
    if op not in (GET, SET, DELETE):
        return f"unknown opcode 0x{op:02x}"
    (key_len,) = struct.unpack_from(">H", body, 1)
    if not 1 <= key_len <= MAX_KEY or len(body) < 3 + key_len:
        return "bad key_len"
    if op != SET and len(body) != 3 + key_len:
        return "bytes after the key"
    if op == SET and len(body) - 3 - key_len > MAX_VALUE:
        return "value too long"
    return None


def answer(engine: Engine, body: bytes) -> bytes:
    problem = malformed(body)
    if problem:
        return reply(ERROR, problem.encode())
    op = body[0]
    if op == STATS:
        return reply(OK, engine.stats())
    if op == SCAN:
        (start_len,) = struct.unpack_from(">H", body, 1)
        start, end = body[3 : 3 + start_len], body[5 + start_len :]
        pairs = engine.scan(start, end)
        payload = struct.pack(">I", len(pairs)) + b"".join(
            struct.pack(">H", len(k)) + k + struct.pack(">I", len(v)) + v for k, v in pairs
        )
        return reply(OK, payload)
    if op == GET:
        value = engine.get(body[3:])
        return reply(NOT_FOUND) if value is TOMBSTONE else reply(OK, value)
    return reply(OK) if engine.change(body) else reply(NOT_FOUND)


def read_exact(conn: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 16))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def serve(engine: Engine, conn: socket.socket) -> None:
    with conn:
        try:
            while True:
                header = read_exact(conn, 4)
                if header is None:
                    return
                (length,) = struct.unpack(">I", header)
                if length > MAX_FRAME:
                    conn.sendall(reply(ERROR, b"frame too large"))
                    return
                body = read_exact(conn, length)
                if body is None:
                    return
                conn.sendall(answer(engine, body))
        except OSError:
            return


def main() -> None:
    engine = Engine(os.environ["DATA_DIR"], int(os.environ.get("MEMTABLE_BYTES", "65536")))
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, int(os.environ["PORT"])))
    listener.listen(64)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(engine, conn), daemon=True).start()


if __name__ == "__main__":
    main()
