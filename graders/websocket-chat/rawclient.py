"""A raw WebSocket client on a TCP socket: builds any upgrade request and any frame, conformant or not, and
reads the server's bytes exactly, so every check can say which byte went wrong."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import random
import re
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

from labkit.checks import expect_bytes, fail, log
from labkit.ports import LOOPBACK
from labkit.render import escape_bytes
from labkit.tools.tcp import TcpClient
from wsframes import (
    CLOSE,
    GUID,
    MAX_MESSAGE,
    OPCODE_NAMES,
    Frame,
    accept_for,
    describe_code,
    describe_sent,
    encode,
    mask,
    server_frame,
)

MAX_HEAD = 16384
STATUS_LINE = re.compile(r"HTTP/1\.1 (\d{3})(?: (.*))?")
RFC_HANDSHAKE = "RFC 6455 section 4.2.2"


class ConnectOptions(TypedDict, total=False):
    """How ``RawWebSocket.connect`` opens the TCP connection, besides where."""

    timeout: float
    recv_buffer: int | None
    max_segment: int | None


class FrameOptions(TypedDict, total=False):
    """How ``send_frame`` builds a frame, as ``RawWebSocket.frame`` takes it."""

    fin: bool
    rsv: int
    masked: bool
    announce: int | None


class UpgradeOptions(TypedDict, total=False):
    """How an upgrade request differs from a valid one, as ``build_request`` takes it."""

    method: str
    version: str
    change: dict[str, str | None] | None


def new_key(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(16)).decode()


def build_request(
    path: str,
    key: str,
    port: int,
    *,
    method: str = "GET",
    version: str = "HTTP/1.1",
    change: dict[str, str | None] | None = None,
) -> bytes:
    """An upgrade request; ``change`` replaces headers by (case-insensitive) name, None drops one, new names are
    added at the end."""
    headers = {
        "Host": f"{LOOPBACK}:{port}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13",
    }
    for name, value in (change or {}).items():
        existing = next((known for known in headers if known.lower() == name.lower()), None)
        headers.pop(existing or name, None)
        if value is not None:
            headers[name] = value
    lines = [f"{method} {path} {version}", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class HttpResponse:
    status: int
    status_line: str
    head: bytes
    headers: dict[str, list[str]] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return ", ".join(values) if values is not None else None

    def tokens(self, name: str) -> set[str]:
        return {token.strip().lower() for token in (self.header(name) or "").split(",")}


class RawWebSocket:
    """One connection, driven byte by byte. Reads keep a buffer, so bytes that arrive early are never lost."""

    def __init__(self, tcp: TcpClient, rng: random.Random, port: int) -> None:
        self.tcp = tcp
        self.label = tcp.label
        self.rng = rng
        self.port = port
        self.buffer = bytearray()

    @classmethod
    def connect(
        cls,
        port: int,
        rng: random.Random,
        *,
        label: str,
        timeout: float = 2.0,
        recv_buffer: int | None = None,
        max_segment: int | None = None,
    ) -> RawWebSocket:
        """``recv_buffer`` shrinks the socket's receive buffer before connecting, so a client that stops reading
        fills up after a few KiB instead of megabytes. ``max_segment`` caps the segment size the client announces:
        the server's kernel sizes its send buffer by segments, so it then holds far less for a client that stops
        reading (on loopback, some hundred KiB instead of a few MiB)."""
        if recv_buffer is None and max_segment is None:
            return cls(TcpClient.connect(port, label=label, timeout=timeout), rng, port)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if recv_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, recv_buffer)
        if max_segment is not None:
            with contextlib.suppress(OSError):  # a platform without TCP_MAXSEG keeps its default segments
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, max_segment)
        sock.settimeout(timeout)
        try:
            sock.connect((LOOPBACK, port))
        except OSError as error:
            sock.close()
            fail(f"{label} could not connect to your server: {error.strerror or error}")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        log(f"{label}: connected (receive buffer {recv_buffer} bytes, maximum segment {max_segment} bytes)")
        return cls(TcpClient(sock, label, timeout), rng, port)

    # --- sending ---------------------------------------------------------------------------------------------

    def send(self, data: bytes, *, note: str = "") -> None:
        """Sends everything, unless the server has closed the connection: then the next read says what came back
        (usually a Close frame explaining why), which teaches more than a broken pipe."""
        try:
            self.tcp.send(data, note=note)
        except (BrokenPipeError, ConnectionResetError):
            log(f"{self.label}: your server closed the connection before it had all of this")

    def frame(
        self,
        opcode: int,
        payload: bytes = b"",
        *,
        fin: bool = True,
        rsv: int = 0,
        masked: bool = True,
        announce: int | None = None,
    ) -> bytes:
        """The bytes of one client frame, masked with a fresh random key unless ``masked=False``."""
        mask_key = self.rng.randbytes(4) if masked else None
        return encode(opcode, payload, mask_key=mask_key, fin=fin, rsv=rsv, announce=announce)

    def send_frame(self, opcode: int, payload: bytes = b"", *, note: str = "", **options: Unpack[FrameOptions]) -> None:
        data = self.frame(opcode, payload, **options)
        summary = f"{describe_sent(data)}, {len(payload)} bytes"
        self.send(data, note=f"{summary}; {note}" if note else summary)

    def send_close(self, code: int | None = 1000, reason: bytes = b"", *, note: str = "") -> None:
        payload = b"" if code is None else struct.pack(">H", code) + reason
        self.send_frame(CLOSE, payload, note=note or f"status {describe_code(code)}")

    # --- reading ---------------------------------------------------------------------------------------------

    def _pull(self, deadline: float) -> str | None:
        """Reads what is there into the buffer; returns why nothing came ("timeout", "closed", "reset")."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        self.tcp.sock.settimeout(remaining)
        try:
            chunk = self.tcp.sock.recv(1 << 20)
        except TimeoutError:
            return "timeout"
        except (ConnectionResetError, ConnectionAbortedError):
            return "reset"
        if not chunk:
            return "closed"
        self.buffer += chunk
        return None

    def _why(self, reason: str, timeout: float) -> str:
        # A close and a reset read the same: which one a peer sees depends on timing, and verdicts must be stable.
        text = (
            f"nothing more arrived within {timeout:g} s" if reason == "timeout" else "your server closed the connection"
        )
        if self.buffer:
            text += f" (after {len(self.buffer)} bytes of an incomplete frame: {escape_bytes(bytes(self.buffer), 32)})"
        return text

    def _parse_frame(self) -> Frame | None:
        buffer = self.buffer
        if len(buffer) < 2:
            return None
        masked, length = bool(buffer[1] & 0x80), buffer[1] & 0x7F
        offset = 2
        if length == 126:
            if len(buffer) < 4:
                return None
            (length,) = struct.unpack_from(">H", buffer, 2)
            offset = 4
        elif length == 127:
            if len(buffer) < 10:
                return None
            (length,) = struct.unpack_from(">Q", buffer, 2)
            offset = 10
        if length > 4 * MAX_MESSAGE:
            fail(
                f"{self.label} received a frame header announcing {length} bytes",
                got=escape_bytes(bytes(buffer[:offset])),
                hint="extended lengths are big-endian: 126 + 16 bits up to 65535, 127 + 64 bits above (RFC 6455 5.2)",
            )
        key_size = 4 if masked else 0
        end = offset + key_size + length
        if len(buffer) < end:
            return None
        raw = bytes(buffer[:end])
        del buffer[:end]
        payload = raw[offset + key_size :]
        if masked:
            payload = mask(payload, raw[offset : offset + 4])
        return Frame(bool(raw[0] & 0x80), (raw[0] >> 4) & 0x7, raw[0] & 0x0F, masked, payload, raw)

    def poll_frame(self, timeout: float | None = None) -> Frame | str:
        """The next frame, or why none came: "timeout", "closed" or "reset"."""
        timeout = self.tcp.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while (frame := self._parse_frame()) is None:
            if (reason := self._pull(deadline)) is not None:
                log(f"{self.label}: no frame: {self._why(reason, timeout)}")
                return reason
        log(f"{self.label} ← {frame.describe()}")
        return frame

    def read_frame(self, what: str, *, hint: str | None = None, timeout: float | None = None) -> Frame:
        timeout = self.tcp.timeout if timeout is None else timeout
        result = self.poll_frame(timeout)
        if isinstance(result, str):
            fail(
                f"{self.label} expected {what}, but {self._why(result, timeout)}",
                hint=hint or "answer every complete message; see the transcript with -v for what was sent",
            )
        return result

    def expect_frame(self, opcode: int, payload: bytes, what: str, *, hint: str | None = None) -> Frame:
        """Reads one frame and compares every byte with the frame a server must send."""
        frame = self.read_frame(what, hint=hint)
        expected = server_frame(opcode, payload)
        if frame.raw == expected:
            return frame
        if frame.opcode == CLOSE and opcode != CLOSE:
            fail(
                f"{self.label} expected {what}, but your server closed the connection: {frame.describe(24)}",
                expected=f"a {OPCODE_NAMES[opcode]} frame",
                got=f"reason {escape_bytes(frame.payload[2:], 80)}",
                hint=hint or "this input is valid: see the README for what must be accepted",
            )
        if frame.opcode != opcode:
            fail(
                f"{self.label} expected {what} in a {OPCODE_NAMES[opcode]} frame, got a {frame.describe(24)}",
                hint=hint,
            )
        if frame.masked:
            fail(
                f"{self.label} received a masked frame from your server ({what})",
                hint="servers never mask their frames (RFC 6455 section 5.1): mask bit 0, no masking key",
            )
        expect_bytes(frame.raw, expected, f"the frame carrying {what}", hint=hint or header_hint(frame, expected))
        return frame

    def expect_close(self, code: int, after: str, *, hint: str | None = None) -> None:
        """The server fails the connection: a Close frame with ``code``, then the TCP connection ends."""
        result = self.poll_frame()
        wanted = f"a Close frame with status {describe_code(code)}"
        if isinstance(result, str):
            fail(f"after {after}, {self.label} expected {wanted}, but {self._why(result, self.tcp.timeout)}", hint=hint)
        if result.opcode != CLOSE:
            fail(f"after {after}, {self.label} expected {wanted}, but got a {result.describe(24)}", hint=hint)
        if result.close_code != code:
            fail(
                f"after {after}, your server closed the connection with the wrong status",
                expected=describe_code(code),
                got=describe_code(result.close_code),
                hint=hint,
            )
        self.reply_close(result.payload[:2])
        self.expect_tcp_closed(f"{describe_code(code)} Close frame", last_frame=True)

    def reply_close(self, payload: bytes) -> None:
        """Completes the closing handshake as a polite client: echo the status, then send FIN."""
        try:
            self.send_frame(CLOSE, payload, note="the client's Close reply")
            self.tcp.sock.shutdown(socket.SHUT_WR)
        except OSError:
            log(f"{self.label}: the connection was already gone")

    def expect_tcp_closed(self, after: str, within: float = 2.0, *, last_frame: bool = False) -> None:
        """The server closes the connection within ``within`` seconds; with ``last_frame``, after sending nothing
        more (a Close is the last frame a WebSocket endpoint sends)."""
        deadline = time.monotonic() + within
        while True:
            if last_frame and self.buffer:
                # Name the first frame only: how many more arrived before the grader looked depends on timing.
                partial = escape_bytes(bytes(self.buffer), 32)
                first = self._parse_frame()
                sent = f"another frame: {first.describe(24)}" if first else f"more: {partial}"
                fail(
                    f"after its {after}, your server sent {sent}",
                    hint="after its Close frame a server sends nothing more and stops handling data (RFC 6455 7.1.7)",
                )
            self.buffer.clear()
            if (reason := self._pull(deadline)) is not None:
                break
        if reason == "timeout":
            fail(
                f"after the {after}, your server kept the TCP connection open for {within:g} s",
                hint="once the Close frames are exchanged the server closes the TCP connection (RFC 6455 7.1.1)",
            )
        log(f"{self.label}: TCP connection {reason} by your server")

    # --- HTTP ------------------------------------------------------------------------------------------------

    def read_response(self, what: str) -> HttpResponse:
        deadline = time.monotonic() + self.tcp.timeout
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            if len(self.buffer) > MAX_HEAD:
                fail(f"the {what} has no blank line (CRLF CRLF) in its first {MAX_HEAD} bytes")
            if (reason := self._pull(deadline)) is not None:
                partial = f"; got {escape_bytes(bytes(self.buffer), 80)}" if self.buffer else ""
                fail(
                    f"{self.label} expected the {what}, but {self._why(reason, self.tcp.timeout)}{partial}",
                    hint="answer the upgrade request with an HTTP/1.1 status line, headers and a blank line (CRLF)",
                )
        head = bytes(self.buffer[: end + 4])
        del self.buffer[: end + 4]
        log(f"{self.label} ← {len(head)} bytes ({what}): {escape_bytes(head, 240)}")
        lines = head.decode("latin-1").split("\r\n")[:-2]
        match = STATUS_LINE.fullmatch(lines[0])
        if not match:
            fail(
                f"the {what} does not start with an HTTP/1.1 status line",
                expected="HTTP/1.1 <3-digit status> <reason>",
                got=escape_bytes(lines[0].encode("latin-1")),
                hint="every line ends with CRLF (\\r\\n); the first is e.g. HTTP/1.1 101 Switching Protocols",
            )
        response = HttpResponse(int(match.group(1)), lines[0], head)
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon or not name.strip():
                fail(f"the {what} has a malformed header line", got=escape_bytes(line.encode("latin-1")))
            response.headers.setdefault(name.strip().lower(), []).append(value.strip())
        return response

    def send_upgrade(
        self, path: str = "/echo", *, key: str | None = None, pieces: int = 0, **options: Unpack[UpgradeOptions]
    ) -> str:
        key = key or new_key(self.rng)
        request = build_request(path, key, self.port, **options)
        if pieces:
            self.tcp.send_in_pieces(request, max(1, len(request) // pieces), note="the upgrade request")
        else:
            self.send(request, note="the upgrade request")
        return key

    def handshake(self, path: str = "/echo", *, key: str | None = None, pieces: int = 0) -> HttpResponse:
        """Opens the WebSocket and checks the 101 response; bytes after it stay in the buffer."""
        key = self.send_upgrade(path, key=key, pieces=pieces)
        response = self.read_response(f"response to the upgrade request for {path}")
        expect_switching(response, key, path)
        return response

    def expect_refusal(self, status: int, what: str, *, hint: str | None = None) -> HttpResponse:
        """The server answers with an HTTP error ``status`` and closes the connection."""
        response = self.read_response(f"response to {what}")
        if response.status != status:
            fail(
                f"{what} was answered with the wrong status",
                expected=f"HTTP/1.1 {status}",
                got=response.status_line,
                hint=hint,
            )
        length = response.header("content-length")
        deadline = time.monotonic() + self.tcp.timeout
        while len(self.buffer) <= MAX_HEAD and self._pull(deadline) is None:
            pass  # the body, up to the server's close
        body = bytes(self.buffer)
        if length is None or not length.isdigit() or int(length) != len(body):
            fail(
                f"the {status} response to {what} has a body of {len(body)} bytes before the connection ends",
                expected=f"Content-Length: {len(body)}",
                got=f"Content-Length: {length}" if length is not None else "no Content-Length header",
                hint="an error response has a Content-Length that matches its body (README: Refusing)",
            )
        self.expect_tcp_closed(f"{status} response")
        return response


def expect_switching(response: HttpResponse, key: str, path: str) -> None:
    if response.status != 101:
        fail(
            f"the upgrade request for {path} was not accepted",
            expected="HTTP/1.1 101 Switching Protocols",
            got=response.status_line,
            hint=f"a valid upgrade request gets 101 and the connection becomes a WebSocket ({RFC_HANDSHAKE})",
        )
    upgrade = response.header("upgrade")
    if upgrade is None or upgrade.lower() != "websocket":
        fail(
            "the 101 response needs the header Upgrade: websocket",
            got=f"Upgrade: {upgrade}" if upgrade is not None else "no Upgrade header",
            hint=RFC_HANDSHAKE,
        )
    if "upgrade" not in response.tokens("connection"):
        fail(
            "the 101 response needs the header Connection: Upgrade",
            got=f"Connection: {response.header('connection')}",
            hint=RFC_HANDSHAKE,
        )
    expected = accept_for(key)
    got = response.header("sec-websocket-accept")
    if got != expected:
        fail(
            f"Sec-WebSocket-Accept is wrong for Sec-WebSocket-Key {key}",
            expected=expected,
            got=got if got is not None else "no Sec-WebSocket-Accept header",
            hint=accept_hint(key, got),
        )
    for header in ("Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol"):
        if response.header(header) is not None:
            fail(
                f"the 101 response selects {header}: {response.header(header)}",
                hint="this server negotiates no extension and no subprotocol: leave these headers out",
            )


def accept_hint(key: str, got: str | None) -> str:
    if got is None:
        return "send Sec-WebSocket-Accept: base64(SHA-1(key + GUID)) in the 101 response"
    if got == base64.b64encode(hashlib.sha1(key.encode()).digest()).decode():
        return f"append the GUID {GUID.decode()} to the key before hashing"
    if got == base64.b64encode(hashlib.sha1(key.encode() + GUID).hexdigest().encode()).decode():
        return "base64-encode the 20 raw bytes of the SHA-1 digest, not its hex string"
    if got == hashlib.sha1(key.encode() + GUID).hexdigest():
        return "the value is base64 of the raw SHA-1 digest, not hex"
    if got == base64.b64encode(hashlib.sha1(base64.b64decode(key) + GUID).digest()).decode():
        return "hash the key exactly as received (its base64 text); do not decode it first"
    return "Sec-WebSocket-Accept = base64(SHA-1(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')), the key as sent"


def header_hint(frame: Frame, expected: bytes) -> str:
    if frame.raw[:1] != expected[:1]:
        return "the first byte is FIN (0x80) | opcode; a server's unfragmented message has FIN set and RSV bits 0"
    size = len(frame.payload)
    if frame.raw[1:2] != expected[1:2] or len(frame.raw) - size != len(expected) - len(frame.payload):
        return (
            "use the shortest length encoding: 0-125 in the 7 bits, 126-65535 as 126 + 16-bit big-endian, "
            "more as 127 + 64-bit big-endian (RFC 6455 section 5.2); the server never masks"
        )
    return "the payload must come back byte for byte, unchanged"
