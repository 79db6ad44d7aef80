"""What lsm-store adds to the tcp-kv protocol, on the grader's side: SCAN, STATS, and the WAL's record layout."""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from labkit.checks import fail
from labkit.render import escape_bytes
from labkit.tools.kvproto import OK, STATUS_NAMES, KvClient

SCAN, STATS = 0x04, 0x05
MAX_VALUE = 65536
MAX_FRAME = 4 * 1024 * 1024
WAL_FOLDER = "wal"
WAL_HEADER = struct.Struct(">II")


def scan_body(start: bytes, end: bytes) -> bytes:
    return bytes([SCAN]) + struct.pack(">H", len(start)) + start + struct.pack(">H", len(end)) + end


def describe_scan(start: bytes, end: bytes) -> str:
    low = escape_bytes(start, 24) if start else "(smallest)"
    high = escape_bytes(end, 24) if end else "(no bound)"
    return f"SCAN [{low}, {high})"


@dataclass(frozen=True)
class Stats:
    levels: tuple[int, ...]
    bytes_on_disk: int
    files_read: int

    @property
    def tables(self) -> int:
        return sum(self.levels)


def expect_ok(client: KvClient, body: bytes, what: str) -> bytes:
    status, payload = client.exchange(body, what)
    if status != OK:
        fail(
            f"{what} was answered {STATUS_NAMES[status]}",
            expected="status 0x00 OK",
            got=f"status 0x{status:02x} {escape_bytes(payload, 60)}",
            hint="SCAN and STATS always succeed when well formed (README.md, Requests)",
        )
    return payload


def scan(client: KvClient, start: bytes, end: bytes) -> list[tuple[bytes, bytes]]:
    what = describe_scan(start, end)
    return parse_pairs(expect_ok(client, scan_body(start, end), what), what)


def parse_pairs(payload: bytes, what: str) -> list[tuple[bytes, bytes]]:
    def broken(why: str) -> None:
        fail(
            f"the reply to {what} is not a list of pairs: {why}",
            expected="count u32, then per pair key_len u16, key, value_len u32, value",
            got=escape_bytes(payload, 80),
        )

    if len(payload) < 4:
        broken("no count")
    (count,) = struct.unpack_from(">I", payload)
    pairs, at = [], 4
    for n in range(count):
        if at + 2 > len(payload):
            broken(f"it ends before pair {n + 1} of {count}")
        (key_len,) = struct.unpack_from(">H", payload, at)
        key = payload[at + 2 : at + 2 + key_len]
        at += 2 + key_len
        if at + 4 > len(payload):
            broken(f"it ends inside pair {n + 1} of {count}")
        (value_len,) = struct.unpack_from(">I", payload, at)
        value = payload[at + 4 : at + 4 + value_len]
        at += 4 + value_len
        if len(key) != key_len or len(value) != value_len:
            broken(f"it ends inside pair {n + 1} of {count}")
        pairs.append((key, value))
    if at != len(payload):
        broken(f"{len(payload) - at} bytes follow the {count} pairs")
    return pairs


def stats(client: KvClient) -> Stats:
    payload = expect_ok(client, bytes([STATS]), "STATS")
    try:
        document = json.loads(payload.decode())
    except (UnicodeDecodeError, ValueError):
        document = None
    parsed = _stats_of(document)
    if parsed is None:
        fail(
            "the STATS payload is not a JSON object with the members README.md names",
            expected='{"levels": [integers >= 0], "bytes_on_disk": integer >= 0, "files_read": integer >= 0}',
            got=escape_bytes(payload, 120),
        )
    return parsed


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _stats_of(document: object) -> Stats | None:
    if not isinstance(document, dict) or not isinstance(document.get("levels"), list):
        return None
    levels = [_count(level) for level in document["levels"]]
    on_disk, files_read = _count(document.get("bytes_on_disk")), _count(document.get("files_read"))
    if on_disk is None or files_read is None or None in levels:
        return None
    return Stats(tuple(level for level in levels if level is not None), on_disk, files_read)


@dataclass(frozen=True)
class WalRecord:
    offset: int
    size: int  # header included
    body: bytes


def newest_wal(data_dir: Path) -> Path:
    """The WAL file the README calls the newest: the largest number in DATA_DIR/wal/<n>.wal."""
    folder = data_dir / WAL_FOLDER
    numbered = []
    for path in folder.glob("*.wal") if folder.is_dir() else []:
        if path.stem.isdigit():
            numbered.append((int(path.stem), path))
    if not numbered:
        listing = sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*"))[:20]
        fail(
            "no WAL file in DATA_DIR/wal/",
            expected="files named <n>.wal in DATA_DIR/wal/ holding your log records",
            got="DATA_DIR holds: " + (", ".join(listing) or "nothing"),
            hint="the WAL's place and names are fixed by README.md (Write-ahead log): the grader reads it",
        )
    return max(numbered)[1]


def wal_records(data: bytes, name: str) -> list[WalRecord]:
    """Every record of a WAL file the engine wrote itself; a file that breaks the layout fails the check."""
    records, at = [], 0
    while at < len(data):
        length, crc = WAL_HEADER.unpack_from(data, at) if len(data) - at >= 8 else (0, 0)
        body = data[at + 8 : at + 8 + length]
        if len(data) - at < 8 or len(body) != length or length == 0 or zlib.crc32(body) != crc:
            fail(
                f"{name} breaks the WAL record layout at offset {at}",
                expected="records of length u32, crc u32 (CRC-32 of the body), body (the request body)",
                got=escape_bytes(data[at : at + 40]),
                hint="write the whole record, header and body, with the big-endian length and zlib.crc32 of the body",
            )
        records.append(WalRecord(at, 8 + length, body))
        at += 8 + length
    return records
