"""lsm-store, a second design: one asyncio thread, group commit, tiered compaction and a manifest log.

- Every complete request a read brings in is handled as a batch: the changes' WAL records are written with one
  write and one fsync, and only then are the batch's replies sent.
- Each memtable has its own WAL file (wal/<n>.wal); a flush writes table <id>.sst and then appends an edit to
  MANIFEST.log that says "table id is live, WAL files below n+1 are done".
- Tables form one tier of sorted runs, newest first. Blocks of 16 entries behind a sparse index are read from
  disk on demand. When the runs newer than the oldest add up to its size, all runs are merged (tombstones go,
  since the oldest data is in the merge); past six runs, the four newest are merged (tombstones stay).
- Scans merge the sources with a heap instead of building a dictionary.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import json
import os
import struct
import sys
import zlib
from collections.abc import Iterator

HOST = "127.0.0.1"
MAX_FRAME = 4 * 1024 * 1024
MAX_KEY = 1024
MAX_VALUE = 65536
GET, SET, DELETE, SCAN, STATS = 1, 2, 3, 4, 5
OK, NOT_FOUND, ERROR = 0, 1, 2
BLOCK = 16
BLOOM_BITS, BLOOM_HASHES = 10, 7
MAX_RUNS, MERGE_NEWEST = 6, 4
HEADER = struct.Struct(">II")
GONE = object()  # a tombstone in a run or the memtable


def sync_folder(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def framed(body: bytes) -> bytes:
    return HEADER.pack(len(body), zlib.crc32(body)) + body


def read_records(path: str) -> tuple[list[bytes], int, int]:
    """The complete records of a log file, where the good part ends, and the file's size."""
    with open(path, "rb") as handle:
        data = handle.read()
    bodies, at = [], 0
    while len(data) - at >= HEADER.size:
        length, crc = HEADER.unpack_from(data, at)
        body = data[at + 8 : at + 8 + length]
        if not 0 < length <= MAX_FRAME or len(body) < length or zlib.crc32(body) != crc:
            break
        bodies.append(body)
        at += 8 + length
    return bodies, at, len(data)


class Filter:
    def __init__(self, bits: bytearray, size: int) -> None:
        self.bits, self.size = bits, size

    @staticmethod
    def spots(key: bytes, size: int) -> list[int]:
        a, b = zlib.crc32(key), zlib.adler32(key) | 1
        return [(a + i * b + i * i) % size for i in range(BLOOM_HASHES)]

    @classmethod
    def build(cls, keys: list[bytes]) -> Filter:
        size = max(8, len(keys) * BLOOM_BITS)
        bits = bytearray(size // 8 + 1)
        for key in keys:
            for spot in cls.spots(key, size):
                bits[spot >> 3] |= 1 << (spot & 7)
        return cls(bits, size)

    def admits(self, key: bytes) -> bool:
        return all(self.bits[s >> 3] >> (s & 7) & 1 for s in self.spots(key, self.size))


class Run:
    """A table file: blocks of entries (key_len u16, key, value_len i32 with -1 for a tombstone, value), a sparse
    index (key_len u16, key, offset u64 per block), the filter bits, and a footer."""

    FOOTER = struct.Struct(">QQQQ")  # index offset, filter offset, filter size in bits, end of data

    def __init__(self, path: str, number: int) -> None:
        self.path, self.number = path, number
        self.size = os.path.getsize(path)
        with open(path, "rb") as handle:
            handle.seek(self.size - self.FOOTER.size)
            index_at, filter_at, filter_size, self.data_end = self.FOOTER.unpack(handle.read(self.FOOTER.size))
            handle.seek(index_at)
            index = handle.read(filter_at - index_at)
            self.filter = Filter(bytearray(handle.read(self.size - self.FOOTER.size - filter_at)), filter_size)
        self.firsts: list[bytes] = []
        self.starts: list[int] = []
        at = 0
        while at < len(index):
            (length,) = struct.unpack_from(">H", index, at)
            self.firsts.append(index[at + 2 : at + 2 + length])
            self.starts.append(struct.unpack_from(">Q", index, at + 2 + length)[0])
            at += 10 + length

    @classmethod
    def write(cls, path: str, number: int, entries: list[tuple[bytes, object]]) -> Run:
        out, index = bytearray(), bytearray()
        for n, (key, value) in enumerate(entries):
            if n % BLOCK == 0:
                index += struct.pack(">H", len(key)) + key + struct.pack(">Q", len(out))
            if value is GONE:
                out += struct.pack(">H", len(key)) + key + struct.pack(">i", -1)
            else:
                assert isinstance(value, bytes)
                out += struct.pack(">H", len(key)) + key + struct.pack(">i", len(value)) + value
        data_end, index_at = len(out), len(out)
        out += index
        bloom = Filter.build([key for key, _ in entries])
        filter_at = len(out)
        out += bloom.bits + cls.FOOTER.pack(index_at, filter_at, bloom.size, data_end)
        with open(path + ".part", "wb") as handle:
            handle.write(out)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(path + ".part", path)
        sync_folder(os.path.dirname(path))
        return cls(path, number)

    @staticmethod
    def parse(block: bytes) -> Iterator[tuple[bytes, object]]:
        at = 0
        while at < len(block):
            (length,) = struct.unpack_from(">H", block, at)
            key = block[at + 2 : at + 2 + length]
            (size,) = struct.unpack_from(">i", block, at + 2 + length)
            at += 6 + length
            if size < 0:
                yield key, GONE
            else:
                yield key, block[at : at + size]
                at += size

    def block(self, i: int) -> bytes:
        end = self.starts[i + 1] if i + 1 < len(self.starts) else self.data_end
        with open(self.path, "rb") as handle:
            handle.seek(self.starts[i])
            return handle.read(end - self.starts[i])

    def find(self, key: bytes) -> object | None:
        """The value or GONE; None when the run has no entry for the key."""
        i = bisect.bisect_right(self.firsts, key) - 1
        if i < 0:
            return None
        for k, value in self.parse(self.block(i)):
            if k == key:
                return value
        return None

    def entries(self, start: bytes = b"") -> Iterator[tuple[bytes, object]]:
        first = max(0, bisect.bisect_right(self.firsts, start) - 1)
        for i in range(first, len(self.starts)):
            yield from self.parse(self.block(i))


class Store:
    def __init__(self, root: str, limit: int) -> None:
        self.root, self.limit = root, limit
        self.wal_dir = os.path.join(root, "wal")
        self.run_dir = os.path.join(root, "runs")
        for folder in (self.wal_dir, self.run_dir):
            os.makedirs(folder, exist_ok=True)
        self.manifest = os.path.join(root, "MANIFEST.log")
        self.live: dict[int, Run] = {}
        self.wal_floor, self.next_number, self.edits = 1, 1, 0
        self.recover_manifest()
        self.memtable: dict[bytes, object] = {}
        self.used = 0
        self.files_read = 0
        self.wal_number = self.replay_wals()
        self.wal = os.open(self.wal_path(self.wal_number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        sync_folder(self.wal_dir)
        if self.used > self.limit:
            self.flush()

    # metadata: an append-only log of edits, each a checksummed JSON record
    def recover_manifest(self) -> None:
        numbers: set[int] = set()
        if os.path.exists(self.manifest):
            bodies, good, size = read_records(self.manifest)
            if good < size:
                os.truncate(self.manifest, good)
            for body in bodies:
                edit = json.loads(body)
                numbers |= set(edit.get("add", []))
                numbers -= set(edit.get("drop", []))
                self.wal_floor = edit.get("wal_floor", self.wal_floor)
                self.next_number = edit.get("next", self.next_number)
                self.edits += 1
        for name in os.listdir(self.run_dir):
            stem = name.split(".")[0]
            if not (name.endswith(".sst") and stem.isdigit() and int(stem) in numbers):
                os.remove(os.path.join(self.run_dir, name))
        self.live = {n: Run(self.run_path(n), n) for n in numbers}

    def record(self, edit: dict[str, object]) -> None:
        if self.edits >= 200:  # rewrite the log as one edit of the whole state
            state = {"add": sorted(self.live), "wal_floor": self.wal_floor, "next": self.next_number}
            with open(self.manifest + ".new", "wb") as handle:
                handle.write(framed(json.dumps(state).encode()))
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(self.manifest + ".new", self.manifest)
            sync_folder(self.root)
            self.edits = 1
            return
        with open(self.manifest, "ab") as handle:
            handle.write(framed(json.dumps(edit).encode()))
            handle.flush()
            os.fsync(handle.fileno())
        self.edits += 1

    def run_path(self, number: int) -> str:
        return os.path.join(self.run_dir, f"{number}.sst")

    def wal_path(self, number: int) -> str:
        return os.path.join(self.wal_dir, f"{number}.wal")

    def replay_wals(self) -> int:
        names = [name for name in os.listdir(self.wal_dir) if name.endswith(".wal") and name[:-4].isdigit()]
        numbers = sorted(int(name[:-4]) for name in names)
        for number in numbers:
            if number < self.wal_floor:
                os.remove(self.wal_path(number))
                continue
            bodies, good, size = read_records(self.wal_path(number))
            for body in bodies:
                self.apply(body)
            if good < size:
                os.truncate(self.wal_path(number), good)
                sys.stderr.write(f"wal: dropped {size - good} bytes at offset {good} of {number}.wal\n")
                sys.stderr.flush()
        return max([self.wal_floor, *numbers])

    # reads and writes
    def apply(self, body: bytes) -> None:
        length = int.from_bytes(body[1:3], "big")
        key = body[3 : 3 + length]
        value: object = body[3 + length :] if body[0] == SET else GONE
        previous = self.memtable.get(key)
        if previous is not None:
            self.used -= len(key) + (len(previous) if isinstance(previous, bytes) else 0)
        self.memtable[key] = value
        self.used += len(key) + (len(value) if isinstance(value, bytes) else 0)

    def find(self, key: bytes, count: bool = True) -> object:
        if key in self.memtable:
            if count:
                self.files_read = 0
            return self.memtable[key]
        searched = 0
        for number in sorted(self.live, reverse=True):
            run = self.live[number]
            if not run.filter.admits(key):
                continue
            searched += 1
            value = run.find(key)
            if value is not None:
                if count:
                    self.files_read = searched
                return value
        if count:
            self.files_read = searched
        return GONE

    def batch(self, bodies: list[bytes]) -> list[bytes]:
        replies, records = [], []
        for body in bodies:
            reply, record = self.request(body)
            replies.append(reply)
            if record:
                records.append(framed(record))
        if records:
            data = memoryview(b"".join(records))
            while data:
                data = data[os.write(self.wal, data) :]
            os.fsync(self.wal)
            if self.used > self.limit:
                self.flush()
        return replies

    def request(self, body: bytes) -> tuple[bytes, bytes | None]:
        problem = check(body)
        if problem:
            return answer(ERROR, problem.encode()), None
        op = body[0]
        if op == STATS:
            return answer(OK, self.stats()), None
        if op == SCAN:
            start_len = int.from_bytes(body[1:3], "big")
            pairs = self.scan(body[3 : 3 + start_len], body[5 + start_len :])
            out = [struct.pack(">I", len(pairs))]
            out += [struct.pack(">H", len(k)) + k + struct.pack(">I", len(v)) + v for k, v in pairs]
            return answer(OK, b"".join(out)), None
        key = body[3 : 3 + int.from_bytes(body[1:3], "big")]
        if op == GET:
            value = self.find(key)
            return (answer(OK, value), None) if isinstance(value, bytes) else (answer(NOT_FOUND), None)
        if op == DELETE and self.find(key, count=False) is GONE:
            return answer(NOT_FOUND), None
        self.apply(body)
        return answer(OK), body

    def flush(self) -> None:
        number = self.next_number
        run = Run.write(self.run_path(number), number, sorted(self.memtable.items()))
        self.next_number += 1
        old_wal = self.wal_number
        self.wal_number += 1
        os.close(self.wal)
        self.wal = os.open(self.wal_path(self.wal_number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        sync_folder(self.wal_dir)
        self.live[number] = run
        self.wal_floor = self.wal_number
        self.record({"add": [number], "wal_floor": self.wal_floor, "next": self.next_number})
        os.remove(self.wal_path(old_wal))
        self.memtable, self.used = {}, 0
        self.compact()

    def compact(self) -> None:
        numbers = sorted(self.live, reverse=True)
        if len(numbers) < 2:
            return
        sizes = [self.live[n].size for n in numbers]
        if sum(sizes[:-1]) >= sizes[-1]:
            self.merge(numbers, bottom=True)
        elif len(numbers) > MAX_RUNS:
            self.merge(numbers[:MERGE_NEWEST], bottom=False)

    def merge(self, numbers: list[int], bottom: bool) -> None:
        """Merges the runs ``numbers`` (newest first) into one; at the bottom, tombstones are dropped."""
        sources = [self.tagged(self.live[n].entries(), rank) for rank, n in enumerate(numbers)]
        merged = [(k, v) for k, v in newest_of(heapq.merge(*sources)) if not (bottom and v is GONE)]
        added = []
        if merged:
            number = self.next_number
            self.next_number += 1
            self.live[number] = Run.write(self.run_path(number), number, merged)
            added.append(number)
        for n in numbers:
            del self.live[n]
        self.record({"add": added, "drop": numbers, "next": self.next_number})
        for n in numbers:
            os.remove(self.run_path(n))

    @staticmethod
    def tagged(entries: Iterator[tuple[bytes, object]], rank: int) -> Iterator[tuple[bytes, int, object]]:
        for key, value in entries:
            yield key, rank, value

    def scan(self, start: bytes, end: bytes) -> list[tuple[bytes, bytes]]:
        in_memory = sorted((k, 0, v) for k, v in self.memtable.items() if k >= start)
        sources = [iter(in_memory)]
        for rank, number in enumerate(sorted(self.live, reverse=True), start=1):
            sources.append(self.tagged(self.live[number].entries(start), rank))
        pairs = []
        for key, value in newest_of(heapq.merge(*sources, key=lambda item: (item[0], item[1]))):
            if end and key >= end:
                break
            if key >= start and isinstance(value, bytes):
                pairs.append((key, value))
        return pairs

    def stats(self) -> bytes:
        total = 0
        for folder, _, names in os.walk(self.root):
            total += sum(os.path.getsize(os.path.join(folder, name)) for name in names)
        return json.dumps({"levels": [len(self.live)], "bytes_on_disk": total, "files_read": self.files_read}).encode()


def newest_of(items: Iterator[tuple[bytes, int, object]]) -> Iterator[tuple[bytes, object]]:
    """From entries sorted by (key, rank), the first (newest) of each key."""
    last = None
    for key, _, value in items:
        if key != last:
            last = key
            yield key, value


def answer(status: int, payload: bytes = b"") -> bytes:
    return struct.pack(">IB", len(payload) + 1, status) + payload


def check(body: bytes) -> str | None:
    if not body:
        return "empty body"
    op, size = body[0], len(body)
    if op == STATS:
        return None if size == 1 else "STATS takes no fields"
    if op == SCAN:
        start_len = int.from_bytes(body[1:3], "big") if size >= 3 else -1
        if start_len < 0 or start_len > MAX_KEY or size < 5 + start_len:
            return "bad SCAN start"
        end_len = int.from_bytes(body[3 + start_len : 5 + start_len], "big")
        return None if end_len <= MAX_KEY and size == 5 + start_len + end_len else "bad SCAN end"
    if op not in (GET, SET, DELETE):
        return f"unknown opcode {op}"
    key_len = int.from_bytes(body[1:3], "big") if size >= 3 else 0
    if not 1 <= key_len <= MAX_KEY or size < 3 + key_len:
        return "bad key length"
    if op != SET:
        return None if size == 3 + key_len else "unexpected bytes after the key"
    return None if size - 3 - key_len <= MAX_VALUE else "value longer than 65536 bytes"


async def session(store: Store, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    pending = bytearray()
    try:
        while data := await reader.read(1 << 16):
            pending += data
            bodies, oversize = [], False
            while len(pending) >= 4:
                length = int.from_bytes(pending[:4], "big")
                if length > MAX_FRAME:
                    oversize = True
                    break
                if len(pending) < 4 + length:
                    break
                bodies.append(bytes(pending[4 : 4 + length]))
                del pending[: 4 + length]
            writer.write(b"".join(store.batch(bodies)))
            if oversize:
                writer.write(answer(ERROR, b"frame larger than MAX_FRAME"))
                await writer.drain()
                return
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main() -> None:
    store = Store(os.environ["DATA_DIR"], int(os.environ.get("MEMTABLE_BYTES") or 65536))
    server = await asyncio.start_server(lambda r, w: session(store, r, w), HOST, int(os.environ["PORT"]))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
