"""The grader's own WebSocket frame codec (RFC 6455 section 5), written from the lab README.

Used for what a conformant client library refuses to do (unmasked frames, reserved bits, broken UTF-8) and for
byte-exact checks of what the server sends.
"""

from __future__ import annotations

import base64
import hashlib
import random
import struct
from dataclasses import dataclass

from labkit.render import escape_bytes

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 1024 * 1024

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
OPCODE_NAMES = {CONT: "Continuation", TEXT: "Text", BINARY: "Binary", CLOSE: "Close", PING: "Ping", PONG: "Pong"}

CLOSE_NAMES = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1007: "invalid payload data",
    1008: "policy violation",
    1009: "message too big",
    1011: "internal error",
}


def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR with the repeated 4-byte key, as one integer operation so megabytes stay cheap."""
    if not payload:
        return payload
    size = len(payload)
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")


def length_field(length: int) -> tuple[int, bytes]:
    """The 7-bit length field and the extended length bytes, in the shortest encoding."""
    if length < 126:
        return length, b""
    if length < 1 << 16:
        return 126, struct.pack(">H", length)
    return 127, struct.pack(">Q", length)


def encode(
    opcode: int,
    payload: bytes = b"",
    *,
    mask_key: bytes | None,
    fin: bool = True,
    rsv: int = 0,
    announce: int | None = None,
) -> bytes:
    """One frame. ``mask_key=None`` leaves it unmasked (as servers send); ``announce`` overrides the length."""
    length = len(payload) if announce is None else announce
    short, extended = length_field(length)
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    if mask_key is None:
        return bytes([first, short]) + extended + payload
    return bytes([first, 0x80 | short]) + extended + mask_key + mask(payload, mask_key)


def server_frame(opcode: int, payload: bytes = b"") -> bytes:
    """The exact bytes a server must send: final, unmasked, shortest length encoding."""
    return encode(opcode, payload, mask_key=None)


def close_payload(code: int | None, reason: bytes = b"") -> bytes:
    return b"" if code is None else struct.pack(">H", code) + reason


def describe_code(code: int | None) -> str:
    if code is None:
        return "no status code"
    name = CLOSE_NAMES.get(code)
    return f"{code} ({name})" if name else str(code)


@dataclass(frozen=True)
class Frame:
    fin: bool
    rsv: int
    opcode: int
    masked: bool
    payload: bytes
    raw: bytes  # every byte of the frame as it arrived: header, masking key, payload

    @property
    def close_code(self) -> int | None:
        return struct.unpack(">H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    def describe(self, limit: int = 48) -> str:
        name = OPCODE_NAMES.get(self.opcode, f"opcode 0x{self.opcode:x}")
        flags = [flag for flag, on in (("FIN", self.fin), ("masked", self.masked)) if on]
        if self.rsv:
            flags.append(f"RSV={self.rsv:03b}")
        text = f"{name} frame ({', '.join(flags) or 'not final'}; {len(self.payload)} bytes)"
        if self.opcode == CLOSE and self.close_code is not None:
            return f"{text}: status {describe_code(self.close_code)}"
        return f"{text}: {escape_bytes(self.payload, limit)}" if self.payload else text


def describe_sent(data: bytes) -> str:
    """A one-line summary of a frame the grader sends (parsed back from its bytes)."""
    first, second = data[0], data[1]
    opcode = first & 0x0F
    name = OPCODE_NAMES.get(opcode, f"opcode 0x{opcode:x}")
    flags = [flag for flag, on in (("FIN", first & 0x80), ("masked", second & 0x80)) if on]
    if first & 0x70:
        flags.append(f"RSV={(first >> 4) & 0x7:03b}")
    return f"{name} frame ({', '.join(flags) or 'not final'})"


# Characters of 1, 2, 3 and 4 UTF-8 bytes, so echoed text exercises multi-byte sequences.
TEXT_PIECES = ["a", "Z", "7", " ", '"', "\\", "é", "ß", "€", "中", "😀", "🚀"]


def random_text(rng: random.Random, size: int) -> bytes:
    """Valid UTF-8 of exactly ``size`` bytes, mixing 1- to 4-byte characters."""
    out = bytearray()
    while len(out) < size:
        piece = rng.choice(TEXT_PIECES).encode()
        out += piece if len(out) + len(piece) <= size else b"x" * (size - len(out))
    return bytes(out)
