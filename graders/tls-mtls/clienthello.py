"""A hand-built TLS ClientHello, and what the server answers to it.

The grader's own OpenSSL may refuse to offer TLS 1.0, TLS 1.1, NULL, export or RC4 cipher suites at all (OpenSSL 3
builds them out or forbids them at its default security level), so a check using the ssl module to offer them
could pass for the grader's reasons instead of the server's. Offering them in a ClientHello written byte by byte
and reading only the first record of the answer asks the server alone: a ServerHello means it agreed.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass

from labkit.ports import LOOPBACK

TLS_1_0, TLS_1_1, TLS_1_2 = 0x0301, 0x0302, 0x0303
VERSION_NAMES = {0x0300: "SSL 3.0", TLS_1_0: "TLS 1.0", TLS_1_1: "TLS 1.1", TLS_1_2: "TLS 1.2", 0x0304: "TLS 1.3"}

# Suites every TLS 1.0 server can pick with an ECDSA or RSA certificate: a server that allows the version agrees.
ORDINARY_SUITES = {
    0xC009: "ECDHE-ECDSA-AES128-SHA",
    0xC00A: "ECDHE-ECDSA-AES256-SHA",
    0xC013: "ECDHE-RSA-AES128-SHA",
    0xC014: "ECDHE-RSA-AES256-SHA",
    0x002F: "AES128-SHA",
    0x0035: "AES256-SHA",
}
# Suites no server may pick: no encryption (NULL), 40/56-bit export keys, or the broken RC4 stream cipher.
WEAK_SUITES = {
    0x0001: "NULL-MD5",
    0x0002: "NULL-SHA",
    0x003B: "NULL-SHA256",
    0xC006: "ECDHE-ECDSA-NULL-SHA",
    0xC010: "ECDHE-RSA-NULL-SHA",
    0x0003: "EXP-RC4-MD5",
    0x0006: "EXP-RC2-CBC-MD5",
    0x0008: "EXP-DES-CBC-SHA",
    0x0004: "RC4-MD5",
    0x0005: "RC4-SHA",
    0xC007: "ECDHE-ECDSA-RC4-SHA",
    0xC011: "ECDHE-RSA-RC4-SHA",
}
ALERTS = {0: "close_notify", 40: "handshake_failure", 47: "illegal_parameter", 70: "protocol_version",
          71: "insufficient_security", 80: "internal_error", 112: "unrecognized_name"}  # fmt: skip

RECORD_HANDSHAKE, RECORD_ALERT = 0x16, 0x15
SERVER_HELLO = 2
GROUPS = (0x001D, 0x0017, 0x0018)  # x25519, secp256r1, secp384r1
SIGNATURE_SCHEMES = (0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0203, 0x0201)


@dataclass(frozen=True)
class HelloAnswer:
    """The first thing the server sent back: a ServerHello (``version`` and ``suite`` set), an alert, or nothing."""

    version: int | None = None
    suite: int | None = None
    alert: int | None = None
    closed: bool = False
    other: str = ""

    @property
    def agreed(self) -> bool:
        return self.version is not None

    def describe(self) -> str:
        if self.version is not None and self.suite is not None:
            suite = {**ORDINARY_SUITES, **WEAK_SUITES}.get(self.suite, f"0x{self.suite:04x}")
            return f"a ServerHello choosing {VERSION_NAMES.get(self.version, hex(self.version))} and {suite}"
        if self.alert is not None:
            return f"the alert {ALERTS.get(self.alert, 'number')} ({self.alert})"
        if self.closed:
            return "the connection closed without a reply"
        return self.other


def client_hello(version: int, suites: list[int], server_name: str) -> bytes:
    """One TLS record holding a ClientHello that offers ``version`` at most and exactly ``suites``."""
    name = server_name.encode("ascii")
    extensions = b"".join([
        _extension(0x0000, _vector(2, b"\x00" + _vector(2, name))),  # server_name: one host_name
        _extension(0x000A, _vector(2, b"".join(struct.pack(">H", g) for g in GROUPS))),  # supported_groups
        _extension(0x000B, _vector(1, b"\x00")),  # ec_point_formats: uncompressed
        _extension(0x000D, _vector(2, b"".join(struct.pack(">H", s) for s in SIGNATURE_SCHEMES))),
        _extension(0xFF01, b"\x00"),  # renegotiation_info, empty: a new connection
    ])  # fmt: skip
    body = b"".join([
        struct.pack(">H", version),
        os.urandom(32),
        _vector(1, b""),  # no session to resume
        _vector(2, b"".join(struct.pack(">H", suite) for suite in suites)),
        _vector(1, b"\x00"),  # compression: null only
        _vector(2, extensions),
    ])  # fmt: skip
    handshake = bytes([1]) + len(body).to_bytes(3, "big") + body
    return struct.pack(">BHH", RECORD_HANDSHAKE, TLS_1_0, len(handshake)) + handshake


def offer(port: int, version: int, suites: list[int], server_name: str, timeout: float = 5.0) -> HelloAnswer:
    """Sends the ClientHello to ``127.0.0.1:port`` and reads the server's first record."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as conn:
        conn.sendall(client_hello(version, suites, server_name))
        try:
            header = _read_exactly(conn, 5)
            if header is None:
                return HelloAnswer(closed=True)
            kind, _, length = struct.unpack(">BHH", header)
            payload = _read_exactly(conn, min(length, 16384)) or b""
        except ConnectionResetError:
            return HelloAnswer(closed=True)
        except TimeoutError:
            return HelloAnswer(other=f"no answer within {timeout:g} s")
    if kind == RECORD_ALERT and len(payload) >= 2:
        return HelloAnswer(alert=payload[1])
    if kind == RECORD_HANDSHAKE and len(payload) >= 39 and payload[0] == SERVER_HELLO:
        version = struct.unpack(">H", payload[4:6])[0]
        session_length = payload[38]
        at = 39 + session_length
        if len(payload) >= at + 2:
            return HelloAnswer(version=version, suite=struct.unpack(">H", payload[at : at + 2])[0])
    return HelloAnswer(other=f"a record of type {kind} that is neither a ServerHello nor an alert: {payload[:16]!r}")


def _extension(kind: int, data: bytes) -> bytes:
    return struct.pack(">HH", kind, len(data)) + data


def _vector(length_bytes: int, data: bytes) -> bytes:
    return len(data).to_bytes(length_bytes, "big") + data


def _read_exactly(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return data or None
        data += chunk
    return data
