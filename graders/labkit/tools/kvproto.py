"""The tcp-kv wire protocol (labs/tcp-kv/README.md) on the grader's side: a codec and a client that checks every
reply byte for byte. Labs whose servers speak this protocol (tcp-kv, lsm-store) share it; a lab adds its own
opcodes by sending their bodies with :meth:`KvClient.exchange`."""

from __future__ import annotations

import struct

from labkit.checks import expect_bytes, fail
from labkit.render import escape_bytes
from labkit.tools.tcp import TcpClient

MAX_FRAME = 4 * 1024 * 1024
MAX_KEY = 1024
GET, SET, DELETE = 0x01, 0x02, 0x03
OK, NOT_FOUND, ERROR = 0x00, 0x01, 0x02
STATUS_NAMES = {OK: "OK", NOT_FOUND: "NOT_FOUND", ERROR: "ERROR"}
OP_NAMES = {GET: "GET", SET: "SET", DELETE: "DELETE"}


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def request(op: int, key: bytes, value: bytes = b"") -> bytes:
    return frame(bytes([op]) + struct.pack(">H", len(key)) + key + value)


def describe(op: int, key: bytes, value: bytes = b"") -> str:
    text = f"{OP_NAMES.get(op, hex(op))} key={escape_bytes(key, 24)}"
    return text + (f" value={escape_bytes(value, 24)}" if op == SET else "")


class KvClient:
    """A tcp-kv client that checks every reply byte for byte."""

    def __init__(self, tcp: TcpClient) -> None:
        self.tcp = tcp

    def read_reply(self, what: str, hint: str | None = None) -> tuple[int, bytes]:
        body = self.tcp.recv_u32_frame(f"reply to {what}", MAX_FRAME, hint=hint)
        if not body:
            fail(
                f"the reply to {what} is an empty frame (length 0)",
                expected="a frame whose body starts with a status byte",
                got='"\\x00\\x00\\x00\\x00"',
                hint="every reply body has at least the status byte",
            )
        if body[0] not in STATUS_NAMES:
            fail(
                f"the reply to {what} has an unknown status byte 0x{body[0]:02x}",
                got=escape_bytes(frame(body)),
                hint="status is 0 OK, 1 NOT_FOUND or 2 ERROR",
            )
        return body[0], body[1:]

    def expect_reply(self, what: str, status: int, payload: bytes | None = b"", *, hint: str | None = None) -> bytes:
        """Reads one reply and compares it with the expected frame; ``payload=None`` accepts any non-empty text.
        ``hint`` replaces the generic advice when no complete reply arrives."""
        got_status, got_payload = self.read_reply(what, hint)
        if status == ERROR and payload is None:
            if got_status != ERROR:
                fail(
                    f"{what} must be answered with ERROR",
                    expected="status 0x02 ERROR with a message",
                    got=f"status 0x{got_status:02x} {STATUS_NAMES[got_status]} {escape_bytes(got_payload, 40)}",
                    hint="malformed or invalid requests get an ERROR reply; the connection stays usable",
                )
            if not got_payload:
                fail(
                    f"the ERROR reply to {what} has no message",
                    hint="put a short UTF-8 message after the status",
                )
            try:
                got_payload.decode("utf-8")
            except UnicodeDecodeError:
                fail(
                    f"the ERROR message for {what} is not UTF-8",
                    got=escape_bytes(got_payload, 60),
                    hint="the message is text for humans, encoded as UTF-8 (do not echo the request's raw bytes)",
                )
            return got_payload
        expected_payload = payload or b""
        if (got_status, got_payload) != (status, expected_payload):
            expect_bytes(
                frame(bytes([got_status]) + got_payload),
                frame(bytes([status]) + expected_payload),
                f"the reply to {what} (status {STATUS_NAMES[status]} expected, got {STATUS_NAMES[got_status]})",
                hint=_status_hint(status, got_status),
            )
        return got_payload

    def call(self, op: int, key: bytes, value: bytes = b"", *, status: int = OK, payload: bytes | None = b"") -> bytes:
        what = describe(op, key, value)
        self.tcp.send(request(op, key, value), note=what)
        return self.expect_reply(what, status, payload)

    def exchange(self, body: bytes, what: str, hint: str | None = None) -> tuple[int, bytes]:
        """Sends one request body of the lab's own (an opcode tcp-kv does not have) and returns its reply."""
        self.tcp.send(frame(body), note=what)
        return self.read_reply(what, hint)

    def set(self, key: bytes, value: bytes) -> None:
        self.call(SET, key, value)

    def get(self, key: bytes, value: bytes | None) -> None:
        if value is None:
            self.call(GET, key, status=NOT_FOUND)
        else:
            self.call(GET, key, payload=value)


def _status_hint(expected: int, got: int) -> str | None:
    if expected == NOT_FOUND and got == ERROR:
        return "a key that is not there is NOT_FOUND (1); ERROR (2) is for malformed requests"
    if expected == OK and got == ERROR:
        return "your server judged a valid request malformed: check the big-endian key_len and where the value starts"
    return None
