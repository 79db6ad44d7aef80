"""A second correct websocket-chat server, built differently from the reference: blocking sockets, and two
threads per client: a reader that parses frames, and a writer that drains that client's own queue. Nothing
ever writes to a socket except its writer thread, so a client that stops reading only blocks its own writer;
when its queue passes BACKLOG_LIMIT the socket is shut down, which ends both of its threads.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import socket
import struct
import sys
import threading
from collections import deque

HOST = "127.0.0.1"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 8192
MAX_MESSAGE = 1024 * 1024
BACKLOG_LIMIT = 1024 * 1024
ECHO_QUEUE_LIMIT = 4 * 1024 * 1024
NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
CONTROL = (0x8, 0x9, 0xA)
REASONS = {400: "Bad Request", 404: "Not Found", 409: "Conflict", 426: "Upgrade Required"}


class Refused(Exception):
    def __init__(self, status: int, extra: str = "") -> None:
        super().__init__(status)
        self.status, self.extra = status, extra


class Failed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Gone(Exception):
    """The peer vanished (EOF or reset)."""


def frame(opcode: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        header = bytes([0x80 | opcode, size])
    elif size < 65536:
        header = bytes([0x80 | opcode, 126]) + struct.pack(">H", size)
    else:
        header = bytes([0x80 | opcode, 127]) + struct.pack(">Q", size)
    return header + payload


def xor(payload: bytes, key: bytes) -> bytes:
    size = len(payload)
    if not size:
        return payload
    keystream = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(keystream, "little")).to_bytes(size, "little")


class Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbox = bytearray()
        self.outbox: deque[bytes | None] = deque()
        self.queued = 0
        self.cond = threading.Condition()
        self.dead = False
        self.writer = threading.Thread(target=self.write_loop, daemon=True)
        self.writer.start()

    # reading
    def fill(self) -> None:
        try:
            chunk = self.sock.recv(262144)
        except OSError:
            chunk = b""
        if not chunk:
            raise Gone
        self.inbox += chunk

    def take(self, count: int) -> bytes:
        while len(self.inbox) < count:
            self.fill()
        data = bytes(self.inbox[:count])
        del self.inbox[:count]
        return data

    def head(self) -> bytes:
        while (end := self.inbox.find(b"\r\n\r\n")) < 0:
            if len(self.inbox) > MAX_HEAD:
                raise Refused(400)
            self.fill()
        data = bytes(self.inbox[: end + 4])
        del self.inbox[: end + 4]
        return data

    # writing: only the writer thread touches the socket's send side
    def push(self, data: bytes | None, *, limit: int | None = None) -> None:
        with self.cond:
            if self.dead:
                return
            if limit is not None and self.queued > limit:
                self.kill()
                return
            self.outbox.append(data)
            self.queued += len(data or b"")
            self.cond.notify()

    def write_loop(self) -> None:
        while True:
            with self.cond:
                while not self.outbox and not self.dead:
                    self.cond.wait()
                if self.dead:
                    return
                data = self.outbox.popleft()
            if data is None:  # close after everything before it was sent
                self.shutdown(socket.SHUT_RDWR)
                return
            try:
                self.sock.sendall(data)
            except OSError:
                self.kill()
                return
            with self.cond:
                self.queued -= len(data)
                self.cond.notify_all()

    def wait_below(self, limit: int) -> None:
        with self.cond:
            while self.queued > limit and not self.dead:
                self.cond.wait()

    def kill(self) -> None:
        """Drop the connection now: both threads of this client end."""
        with self.cond:
            self.dead = True
            self.outbox.clear()
            self.cond.notify_all()
        self.shutdown(socket.SHUT_RDWR)

    def shutdown(self, how: int) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(how)


def accept_for(head: bytes, room: Room) -> tuple[str, str, str]:
    """Validates the upgrade request: returns (path, chat name or '', Sec-WebSocket-Accept), or raises Refused."""
    lines = head.decode("latin-1").split("\r\n")[:-2]
    method, _, rest = lines[0].partition(" ")
    target, _, version = rest.partition(" ")
    if method != "GET" or version != "HTTP/1.1" or " " in target or not target.startswith("/"):
        raise Refused(400)
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if ":" not in line or line.split(":", 1)[0] != line.split(":", 1)[0].strip() or line.startswith(":"):
            raise Refused(400)
        name, value = line.split(":", 1)
        headers.setdefault(name.lower(), []).append(value.strip(" \t"))

    def tokens(name: str) -> list[str]:
        return [token.strip().lower() for value in headers.get(name, []) for token in value.split(",")]

    path, _, query = target.partition("?")
    if path not in ("/echo", "/chat"):
        raise Refused(404)
    key = ",".join(headers.get("sec-websocket-key", []))
    try:
        key_ok = len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        key_ok = False
    if (
        "host" not in headers
        or "websocket" not in tokens("upgrade")
        or "upgrade" not in tokens("connection")
        or not key_ok
        or "sec-websocket-version" not in headers
    ):
        raise Refused(400)
    if headers["sec-websocket-version"] != ["13"]:
        raise Refused(426, "Sec-WebSocket-Version: 13\r\n")
    name = ""
    if path == "/chat":
        names = [part[5:] for part in query.split("&") if part.startswith("name=")]
        if len(names) != 1 or not NAME.fullmatch(names[0]):
            raise Refused(400)
        name = names[0]
        if room.has(name):
            raise Refused(409)
    digest = hashlib.sha1(key.encode() + GUID).digest()
    return path, name, base64.b64encode(digest).decode()


def read_message(client: Client) -> tuple[int, bytes] | None:
    """The next data message; control frames are handled here. None after a closing handshake."""
    kind: int | None = None
    pieces: list[bytes] = []
    total = 0
    while True:
        first, second = client.take(2)
        opcode, fin = first & 0x0F, first >> 7
        if first & 0x70 or opcode not in (0, 1, 2, *CONTROL) or not second & 0x80:
            raise Failed(1002)
        size = second & 0x7F
        if opcode in CONTROL and (not fin or size > 125):
            raise Failed(1002)
        if size == 126:
            size = int.from_bytes(client.take(2), "big")
        elif size == 127:
            size = int.from_bytes(client.take(8), "big")
            if size >= 1 << 63:
                raise Failed(1002)
        key = client.take(4)
        if opcode in CONTROL:
            payload = xor(client.take(size), key)
            if opcode == 0x9:
                client.push(frame(0xA, payload))
            elif opcode == 0x8:
                close_reply(client, payload)
                return None
            continue
        if (opcode == 0) == (kind is None):
            raise Failed(1002)
        if total + size > MAX_MESSAGE:
            raise Failed(1009)
        pieces.append(xor(client.take(size), key))
        total += size
        kind = opcode if kind is None else kind
        if fin:
            message = b"".join(pieces)
            if kind == 1:
                try:
                    message.decode("utf-8")
                except UnicodeDecodeError:
                    raise Failed(1007) from None
            return kind, message


def close_reply(client: Client, payload: bytes) -> None:
    if len(payload) == 1:
        raise Failed(1002)
    if payload:
        code = int.from_bytes(payload[:2], "big")
        if not (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
            raise Failed(1002)
        try:
            payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise Failed(1007) from None
    client.push(frame(0x8, payload[:2]))
    client.push(None)


class Room:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.members: dict[str, Client] = {}

    def has(self, name: str) -> bool:
        with self.lock:
            return name in self.members

    def send(self, client: Client, event: dict[str, object]) -> None:
        data = frame(0x1, json.dumps(event).encode())
        client.push(data, limit=BACKLOG_LIMIT)

    def enter(self, name: str, client: Client) -> bool:
        with self.lock:
            if name in self.members:
                return False
            others = list(self.members)
            self.members[name] = client
            self.send(client, {"type": "welcome", "name": name, "members": others})
            self.tell_others(name, {"type": "join", "name": name})
            return True

    def exit(self, name: str, client: Client) -> None:
        with self.lock:
            if self.members.get(name) is client:
                del self.members[name]
                self.tell_others(name, {"type": "leave", "name": name})

    def tell_others(self, name: str, event: dict[str, object]) -> None:
        with self.lock:
            for other_name, other in self.members.items():
                if other_name != name:
                    self.send(other, event)


def serve_client(sock: socket.socket, room: Room) -> None:
    client = Client(sock)
    name = ""
    try:
        try:
            _path, name, accept = accept_for(client.head(), room)
        except Refused as refusal:
            body = f"{refusal.status} {REASONS[refusal.status]}\n".encode()
            client.push(
                f"HTTP/1.1 {refusal.status} {REASONS[refusal.status]}\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n{refusal.extra}\r\n".encode()
                + body
            )
            client.push(None)
            return
        response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        client.push(f"{response}Sec-WebSocket-Accept: {accept}\r\n\r\n".encode())
        if name and not room.enter(name, client):
            name = ""
            client.kill()
            return
        try:
            while (message := read_message(client)) is not None:
                kind, payload = message
                if not name:
                    client.push(frame(kind, payload))
                    client.wait_below(ECHO_QUEUE_LIMIT)
                elif kind != 0x1:
                    raise Failed(1003)
                else:
                    chat_message(room, name, client, payload)
        except Failed as failure:
            client.push(frame(0x8, struct.pack(">H", failure.code)))
            client.push(None)
    except Gone:
        client.kill()
    finally:
        if name:
            room.exit(name, client)
        client.writer.join(1.0)
        sock.close()


def chat_message(room: Room, name: str, client: Client, payload: bytes) -> None:
    try:
        data = json.loads(payload)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("type") == "message" and isinstance(data.get("text"), str):
        room.tell_others(name, {"type": "message", "name": name, "text": data["text"]})
    else:
        room.send(client, {"type": "error", "reason": "not a chat message"})


def main() -> int:
    room = Room()
    listener = socket.create_server((HOST, int(os.environ["PORT"])), backlog=128)
    while True:
        sock, _ = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve_client, args=(sock, room), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
