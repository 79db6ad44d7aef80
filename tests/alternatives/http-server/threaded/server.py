"""A correct http-server built differently from the reference: one thread per connection, blocking sockets
with deadlines, string-based parsing, and a lingering close after errors (the reference uses asyncio)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import string
import sys
import threading
import time
from pathlib import Path

MAX_HEAD = 8192
MAX_BODY = 1 << 20
HEAD_TIMEOUT = 1.0
BODY_TIMEOUT = 5.0
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}
PHRASES = {
    200: "OK",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}
TOKEN_CHARS = set(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")


class Refused(Exception):
    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status


class Gone(Exception):
    """The peer went away or stalled inside a body."""


class Expired(Exception):
    """The head deadline passed."""


def is_token(text: str) -> bool:
    return bool(text) and all(char in TOKEN_CHARS for char in text)


class Wire:
    """A socket with a byte buffer; every read has a deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def more(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Expired
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(32768)
        except TimeoutError:
            raise Expired from None
        self.buf.extend(data)
        return bool(data)

    def head(self) -> str | None:
        deadline = time.monotonic() + HEAD_TIMEOUT
        while True:
            while self.buf[:2] == b"\r\n":
                del self.buf[:2]
            end = self.buf.find(b"\r\n\r\n")
            if end != -1:
                if end + 4 > MAX_HEAD:
                    raise Refused(431, "head too large")
                text = self.buf[:end].decode("latin-1")
                del self.buf[: end + 4]
                return text
            if len(self.buf) >= MAX_HEAD:
                raise Refused(431, "head too large")
            if not self.more(deadline):
                return None

    def take(self, count: int) -> bytes:
        while len(self.buf) < count:
            try:
                if not self.more(time.monotonic() + BODY_TIMEOUT):
                    raise Gone
            except Expired:
                raise Gone from None
        data = bytes(self.buf[:count])
        del self.buf[:count]
        return data

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD:
                raise Refused(400, "chunk line too long")
            try:
                if not self.more(time.monotonic() + BODY_TIMEOUT):
                    raise Gone
            except Expired:
                raise Gone from None
        found = self.buf.index(b"\r\n")
        data = bytes(self.buf[:found])
        del self.buf[: found + 2]
        return data


class Request:
    def __init__(self, head: str) -> None:
        first, *rest = head.split("\r\n")
        pieces = first.split(" ")
        if len(pieces) != 3:
            raise Refused(400, "bad request line")
        self.method, self.target, self.version = pieces
        if not is_token(self.method):
            raise Refused(400, "bad method")
        if not self.target.startswith("/") or any(ord(c) <= 32 or ord(c) == 127 for c in self.target):
            raise Refused(400, "bad target")
        v = self.version
        if not (len(v) == 8 and v.startswith("HTTP/") and v[5].isdigit() and v[6] == "." and v[7].isdigit()):
            raise Refused(400, "bad version")
        if v[5] != "1":
            raise Refused(505, "unsupported version")
        self.fields: list[tuple[str, str]] = []
        for line in rest:
            if line[:1] in (" ", "\t"):
                raise Refused(400, "folded line")
            name, sep, value = line.partition(":")
            if not sep or not is_token(name):
                raise Refused(400, "bad field line")
            value = value.strip(" \t")
            if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in value):
                raise Refused(400, "control character in a field value")
            self.fields.append((name, value))
        if self.version != "HTTP/1.0" and len(self.get_all("host")) != 1:
            raise Refused(400, "Host is required once")
        self.body = b""

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key.lower() == name]

    @property
    def closing(self) -> bool:
        tokens = {t.strip().lower() for v in self.get_all("connection") for t in v.split(",")}
        return self.version == "HTTP/1.0" or "close" in tokens


def read_body(wire: Wire, request: Request) -> None:
    coding, length = request.get_all("transfer-encoding"), request.get_all("content-length")
    if coding and length:
        raise Refused(400, "Transfer-Encoding with Content-Length")
    if coding and ",".join(coding).strip().lower() != "chunked":
        raise Refused(501, "unknown transfer coding")
    if length and (len(length) != 1 or not length[0].isdigit() or not length[0].isascii()):
        raise Refused(400, "bad Content-Length")
    if length and int(length[0]) > MAX_BODY:
        raise Refused(413, "body too large")
    if request.method not in ("GET", "HEAD", "POST", "PUT", "DELETE"):
        raise Refused(501, "unknown method")
    if length:
        request.body = wire.take(int(length[0]))
    elif coding:
        parts: list[bytes] = []
        total = 0
        while True:
            size_text = wire.line().split(b";")[0].strip(b" \t")
            hexadecimal = size_text and all(c in b"0123456789abcdefABCDEF" for c in size_text)
            size = int(size_text, 16) if hexadecimal else -1
            if size < 0:
                raise Refused(400, "bad chunk size")
            total += size
            if total > MAX_BODY:
                raise Refused(413, "body too large")
            if size == 0:
                break
            parts.append(wire.take(size))
            if wire.take(2) != b"\r\n":
                raise Refused(400, "chunk without CRLF")
        while wire.line():
            pass
        request.body = b"".join(parts)


def tag_of(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'


def build(status: int, fields: list[tuple[str, str]], body: bytes, *, bodiless: bool, close: bool) -> bytes:
    out = [f"HTTP/1.1 {status} {PHRASES[status]}"] + [f"{k}: {v}" for k, v in fields]
    if status not in (204, 304):
        out.append(f"Content-Length: {len(body)}")
    if close:
        out.append("Connection: close")
    head = "\r\n".join(out).encode("latin-1") + b"\r\n\r\n"
    return head if bodiless or status in (204, 304) else head + body


class App:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.note = b"hello\n"
        self.lock = threading.Lock()

    def handle(self, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
        path = request.target.partition("?")[0]
        method = request.method
        if path == "/echo":
            if method != "POST":
                return 405, [("Allow", "POST")], b"no\n"
            described = {
                "method": method,
                "target": request.target,
                "version": request.version,
                "headers": [list(pair) for pair in request.fields],
                "body": request.body.decode("utf-8", "replace"),
            }
            return 200, [("Content-Type", "application/json")], json.dumps(described, ensure_ascii=False).encode()
        if path == "/note":
            with self.lock:
                if method == "PUT":
                    self.note = request.body
                    return 204, [("ETag", tag_of(self.note))], b""
                current = self.note
            if method not in ("GET", "HEAD"):
                return 405, [("Allow", "PUT, HEAD, GET")], b"no\n"
            return self.conditional(request, current, TYPES[".txt"])
        segments = ["index.html"] if path == "/" else path[1:].split("/")
        if "" in segments or "." in segments or ".." in segments:
            return 404, [], b"not found\n"
        file = self.root.joinpath(*segments)
        if not file.is_file():
            return 404, [], b"not found\n"
        if method not in ("GET", "HEAD"):
            return 405, [("Allow", "HEAD, GET")], b"no\n"
        return self.conditional(request, file.read_bytes(), TYPES.get(file.suffix.lower(), "application/octet-stream"))

    @staticmethod
    def conditional(request: Request, content: bytes, kind: str) -> tuple[int, list[tuple[str, str]], bytes]:
        tag = tag_of(content)
        wanted = [t.strip() for v in request.get_all("if-none-match") for t in v.split(",")]
        if "*" in wanted or any(t[2:] == tag if t.startswith("W/") else t == tag for t in wanted):
            return 304, [("ETag", tag)], b""
        return 200, [("Content-Type", kind), ("ETag", tag)], content


def serve_connection(sock: socket.socket, app: App) -> None:
    wire = Wire(sock)
    try:
        while True:
            request = None
            try:
                text = wire.head()
                if text is None:
                    return
                request = Request(text)
                read_body(wire, request)
            except Expired:
                if wire.buf.strip(b"\r\n"):
                    sock.sendall(build(408, [], b"timeout\n", bodiless=False, close=True))
                return
            except Refused as refusal:
                bodiless = request is not None and request.method == "HEAD"
                sock.sendall(build(refusal.status, [], f"{refusal}\n".encode(), bodiless=bodiless, close=True))
                linger(sock)
                return
            status, fields, body = app.handle(request)
            close = request.closing
            sock.sendall(build(status, fields, body, bodiless=request.method == "HEAD", close=close))
            if close:
                return
    except (Gone, OSError):
        return
    finally:
        sock.close()


def linger(sock: socket.socket) -> None:
    """Half-closes and reads briefly, so unread request bytes do not turn the close into a reset."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(0.2)
        while sock.recv(65536):
            pass
    except OSError:
        pass


def main() -> int:
    port = int(os.environ["PORT"])
    app = App(Path(os.environ.get("DOCROOT") or "public"))
    with socket.create_server(("127.0.0.1", port), backlog=128) as listener:
        while True:
            client, _ = listener.accept()
            threading.Thread(target=serve_connection, args=(client, app), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
