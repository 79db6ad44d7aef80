"""websocket-chat test scenario: strips spaces around header names instead of refusing them, and accepts an empty
name, so 'X-Spaced : 1', ' X-Indented: 1' and ': no name' do not get 400.

Otherwise a copy of the reference solution.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import signal
import struct
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

HOST = "127.0.0.1"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 8192
MAX_MESSAGE = 1024 * 1024
BACKLOG_LIMIT = 1024 * 1024
NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
DATA_OPCODES = {OP_CONTINUATION, OP_TEXT, OP_BINARY}
CONTROL_OPCODES = {OP_CLOSE, OP_PING, OP_PONG}

CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009

# How long a closing connection may take to flush its last frames before it is cut.
FLUSH_TIMEOUT = 1.0


class HandshakeError(Exception):
    def __init__(self, status: int, reason: str, detail: str, extra_headers: str = "") -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail, self.extra_headers = status, reason, detail, extra_headers


class ProtocolError(Exception):
    """The client broke RFC 6455: the connection is failed with a Close frame carrying ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def bad_request(detail: str) -> HandshakeError:
    return HandshakeError(400, "Bad Request", detail)


# --- Opening handshake (RFC 6455 section 4.2) --------------------------------------------------------------


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)

    def tokens(self, name: str) -> set[str]:
        return {token.strip().lower() for token in self.headers.get(name, "").split(",")}


def parse_request(head: bytes) -> Request:
    lines = head.decode("latin-1").split("\r\n")[:-2]
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise bad_request("malformed request line")
    method, target, version = parts
    if version != "HTTP/1.1":
        raise bad_request("the upgrade needs HTTP/1.1")
    if method != "GET":
        raise bad_request("the upgrade needs the GET method")
    if not target.startswith("/"):
        raise bad_request("the request target must be a path")
    request = Request(method, target)
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise bad_request(f"malformed header line {line!r}")
        name, value = name.strip().lower(), value.strip(" \t")
        request.headers[name] = f"{request.headers[name]}, {value}" if name in request.headers else value
    return request


def accept_value(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def check_upgrade(request: Request) -> str:
    """Validates the upgrade headers and returns the Sec-WebSocket-Accept value."""
    if "host" not in request.headers:
        raise bad_request("missing Host header")
    if "websocket" not in request.tokens("upgrade"):
        raise bad_request("Upgrade must be websocket")
    if "upgrade" not in request.tokens("connection"):
        raise bad_request("Connection must include Upgrade")
    key = request.headers.get("sec-websocket-key", "")
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except (binascii.Error, ValueError):
        raise bad_request("Sec-WebSocket-Key must be 16 bytes in base64") from None
    version = request.headers.get("sec-websocket-version")
    if version is None:
        raise bad_request("missing Sec-WebSocket-Version")
    if version != "13":
        raise HandshakeError(426, "Upgrade Required", "only version 13 is supported", "Sec-WebSocket-Version: 13\r\n")
    return accept_value(key)


def chat_name(query: str) -> str:
    names = [part[len("name=") :] for part in query.split("&") if part.startswith("name=")]
    if len(names) != 1 or not NAME.fullmatch(names[0]):
        raise bad_request("the chat needs ?name= with 1 to 32 of A-Z a-z 0-9 _ -")
    return names[0]


def http_error(error: HandshakeError) -> bytes:
    body = f"{error.status} {error.reason}: {error.detail}\n".encode()
    return (
        f"HTTP/1.1 {error.status} {error.reason}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Connection: close\r\n"
        f"{error.extra_headers}\r\n"
    ).encode() + body


def switching_protocols(accept: str) -> bytes:
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n"
        "\r\n"
    ).encode()


# --- Framing (RFC 6455 section 5) ----------------------------------------------------------------------------


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A final, unmasked frame with the shortest length encoding, as servers must send them."""
    first = 0x80 | opcode
    length = len(payload)
    if length < 126:
        return struct.pack(">BB", first, length) + payload
    if length < 1 << 16:
        return struct.pack(">BBH", first, 126, length) + payload
    return struct.pack(">BBQ", first, 127, length) + payload


def unmask(payload: bytes, key: bytes) -> bytes:
    # XOR as one big integer operation: a byte-by-byte loop is far too slow for a 1 MiB message.
    if not payload:
        return payload
    size = len(payload)
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")


def valid_close_code(code: int) -> bool:
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


class Connection:
    """One WebSocket connection after the handshake: reads messages, answers control frames."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def send_frame(self, opcode: int, payload: bytes) -> None:
        if not self.writer.transport.is_closing():
            self.writer.write(encode_frame(opcode, payload))

    async def read_header(self) -> tuple[bool, int, int, bytes]:
        first, second = await self.reader.readexactly(2)
        fin, opcode = bool(first & 0x80), first & 0x0F
        if first & 0x70:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "RSV bits set but no extension was negotiated")
        if opcode not in DATA_OPCODES | CONTROL_OPCODES:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, f"unknown opcode 0x{opcode:x}")
        if not second & 0x80:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "client frames must be masked")
        length = second & 0x7F
        if opcode in CONTROL_OPCODES and (not fin or length > 125):
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "control frames must be final and at most 125 bytes")
        if length == 126:
            (length,) = struct.unpack(">H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack(">Q", await self.reader.readexactly(8))
            if length >> 63:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "the most significant bit of a 64-bit length must be 0")
        mask = await self.reader.readexactly(4)
        return fin, opcode, length, mask

    async def read_message(self) -> tuple[int, bytes] | None:
        """The next complete data message, or None once the closing handshake is done."""
        opcode: int | None = None
        parts: list[bytes] = []
        size = 0
        while True:
            fin, frame_opcode, length, mask = await self.read_header()
            if frame_opcode in CONTROL_OPCODES:
                payload = unmask(await self.reader.readexactly(length), mask)
                if frame_opcode == OP_PING:
                    self.send_frame(OP_PONG, payload)
                elif frame_opcode == OP_CLOSE:
                    await self.answer_close(payload)
                    return None
                continue
            if frame_opcode == OP_CONTINUATION and opcode is None:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "continuation frame without a message to continue")
            if frame_opcode != OP_CONTINUATION and opcode is not None:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "new message before the fragmented one was finished")
            # Decided from the header: the announced payload is never read or allocated.
            if size + length > MAX_MESSAGE:
                raise ProtocolError(CLOSE_TOO_BIG, f"message larger than {MAX_MESSAGE} bytes")
            parts.append(unmask(await self.reader.readexactly(length), mask))
            size += length
            opcode = frame_opcode if opcode is None else opcode
            if fin:
                message = b"".join(parts)
                if opcode == OP_TEXT:
                    try:
                        message.decode("utf-8")
                    except UnicodeDecodeError:
                        raise ProtocolError(CLOSE_INVALID_DATA, "text message is not valid UTF-8") from None
                return opcode, message

    async def answer_close(self, payload: bytes) -> None:
        if len(payload) == 1:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "a close payload cannot be 1 byte")
        if payload:
            (code,) = struct.unpack(">H", payload[:2])
            if not valid_close_code(code):
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, f"invalid close code {code}")
            try:
                payload[2:].decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError(CLOSE_INVALID_DATA, "close reason is not valid UTF-8") from None
        self.send_frame(OP_CLOSE, payload[:2])
        await self.finish()

    async def fail(self, error: ProtocolError) -> None:
        self.send_frame(OP_CLOSE, struct.pack(">H", error.code) + error.reason.encode()[:120])
        await self.finish()

    async def finish(self) -> None:
        """Flushes what is queued (briefly), then closes the TCP connection: the server closes first."""
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(self.writer.drain(), FLUSH_TIMEOUT)
        self.writer.close()

    async def serve(self, on_message: Callable[[int, bytes], Awaitable[None]]) -> None:
        try:
            while (message := await self.read_message()) is not None:
                await on_message(*message)
        except ProtocolError as error:
            await self.fail(error)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.writer.close()  # the client vanished without a closing handshake


# --- The chat room -------------------------------------------------------------------------------------------


class Member:
    def __init__(self, name: str, connection: Connection) -> None:
        self.name = name
        self.connection = connection

    def deliver(self, event: dict[str, object]) -> None:
        """Queues an event without waiting; a member that stopped reading is dropped instead."""
        transport = self.connection.writer.transport
        if transport.is_closing():
            return
        if transport.get_write_buffer_size() > BACKLOG_LIMIT:
            transport.abort()  # its reader then ends, and the room announces the leave
            return
        payload = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        transport.write(encode_frame(OP_TEXT, payload))


class Room:
    def __init__(self) -> None:
        self.members: dict[str, Member] = {}

    def join(self, member: Member) -> None:
        others = sorted(self.members)
        self.members[member.name] = member
        member.deliver({"type": "welcome", "name": member.name, "members": others})
        self.broadcast({"type": "join", "name": member.name}, sender=member)

    def leave(self, member: Member) -> None:
        if self.members.get(member.name) is member:
            del self.members[member.name]
            self.broadcast({"type": "leave", "name": member.name}, sender=member)

    def broadcast(self, event: dict[str, object], sender: Member) -> None:
        for member in list(self.members.values()):
            if member is not sender:
                member.deliver(event)

    async def receive(self, member: Member, opcode: int, message: bytes) -> None:
        if opcode != OP_TEXT:
            raise ProtocolError(CLOSE_UNSUPPORTED_DATA, "the chat accepts text messages only")
        try:
            data = json.loads(message)
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("type") != "message" or not isinstance(data.get("text"), str):
            member.deliver({"type": "error", "reason": 'expected {"type": "message", "text": "..."}'})
            return
        self.broadcast({"type": "message", "name": member.name, "text": data["text"]}, sender=member)


# --- Connections --------------------------------------------------------------------------------------------


class Server:
    def __init__(self) -> None:
        self.room = Room()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            head = b""
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        try:
            if not head:
                raise bad_request(f"request head larger than {MAX_HEAD} bytes")
            request = parse_request(head)
            path, _, query = request.target.partition("?")
            if path not in ("/echo", "/chat"):
                raise HandshakeError(404, "Not Found", f"no endpoint {path}")
            accept = check_upgrade(request)
            name = chat_name(query) if path == "/chat" else ""
            if name in self.room.members:
                raise HandshakeError(409, "Conflict", f"the name {name} is taken")
        except HandshakeError as error:
            writer.write(http_error(error))
            connection = Connection(reader, writer)
            await connection.finish()
            return

        writer.write(switching_protocols(accept))
        connection = Connection(reader, writer)
        if path == "/echo":
            await connection.serve(lambda opcode, message: self.echo(connection, opcode, message))
            return
        member = Member(name, connection)
        self.room.join(member)  # in the same step as the name check: no other join can slip in between
        try:
            await connection.serve(lambda opcode, message: self.room.receive(member, opcode, message))
        finally:
            self.room.leave(member)

    async def echo(self, connection: Connection, opcode: int, message: bytes) -> None:
        connection.send_frame(opcode, message)
        await connection.writer.drain()


async def serve(port: int) -> None:
    server = Server()
    listener = await asyncio.start_server(server.handle, HOST, port, limit=MAX_HEAD)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with listener:
        await stop.wait()


def main() -> int:
    asyncio.run(serve(int(os.environ["PORT"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
