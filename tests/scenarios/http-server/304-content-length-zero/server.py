"""http-server test scenario: 304 responses carry Content-Length: 0.

A copy of the reference server with one deliberate bug, marked ``BUG``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
MAX_HEAD = 8192  # request line + field lines + the empty line, in bytes
MAX_BODY = 1024 * 1024  # decoded body, in bytes
HEAD_TIMEOUT = 1.0  # seconds for a whole request head, from when the server starts waiting for it
BODY_READ_TIMEOUT = 5.0  # seconds without a byte while a body is being read
READ_SIZE = 65536

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
}
METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE"}
REASONS = {
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
INITIAL_NOTE = b"hello\n"

TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
ORIGIN_FORM = re.compile(rb"/[\x21-\x7e\x80-\xff]*")
VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])")
FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
HEX = re.compile(rb"[0-9A-Fa-f]+")


class HttpError(Exception):
    """A request the server refuses; the connection is closed after the response."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class ClientGone(Exception):
    """The client closed or reset the connection in the middle of a request."""


@dataclass
class Request:
    method: str
    target: str
    version: str
    fields: list[tuple[str, str]]
    body: bytes = b""

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key.lower() == name]

    def tokens(self, name: str) -> set[str]:
        return {token.strip().lower() for value in self.values(name) for token in value.split(",")}

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def wants_close(self) -> bool:
        return self.version == "HTTP/1.0" or "close" in self.tokens("connection")


@dataclass
class Response:
    status: int
    fields: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    close: bool = False

    def encode(self, head_only: bool) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {REASONS[self.status]}"]
        lines += [f"{name}: {value}" for name, value in self.fields]
        if self.status != 204:  # BUG: a 304 announces its own empty body, not the 200's length
            lines.append(f"Content-Length: {len(self.body)}")
        if self.close:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head if head_only or self.status in (204, 304) else head + self.body


def text_response(status: int, text: str, **extra: object) -> Response:
    return Response(status, [("Content-Type", "text/plain; charset=utf-8")], f"{text}\n".encode(), **extra)


def entity_tag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def none_match(request: Request, tag: str) -> bool:
    """True when If-None-Match names the current tag (weak comparison, RFC 9110 §13.1.2) or is *."""
    values = request.values("if-none-match")
    if not values:
        return False
    candidates = [item.strip() for value in values for item in value.split(",")]
    return "*" in candidates or tag in (item.removeprefix("W/") for item in candidates)


def parse_head(head: bytes) -> Request:
    """The request line and field lines (RFC 9112 §3, §5), strictly: anything else is a 400."""
    request_line, *field_lines = head.split(b"\r\n")
    parts = request_line.split(b" ")
    if len(parts) != 3:
        raise HttpError(400, "the request line must be: method SP target SP version")
    method, target, version = parts
    if not TOKEN.fullmatch(method):
        raise HttpError(400, "the method is not a token")
    if not ORIGIN_FORM.fullmatch(target):
        raise HttpError(400, "the target must start with / and contain no spaces or control characters")
    match = VERSION.fullmatch(version)
    if not match:
        raise HttpError(400, "the version must look like HTTP/1.1")
    if match.group(1) != b"1":
        raise HttpError(505, "only HTTP/1.x is supported")
    fields = []
    for line in field_lines:
        if line[:1] in (b" ", b"\t"):
            raise HttpError(400, "obsolete line folding is not accepted")
        name, colon, value = line.partition(b":")
        if not colon or not TOKEN.fullmatch(name):
            raise HttpError(400, "a field line must be name:value with no space before the colon")
        value = value.strip(b" \t")
        if not FIELD_VALUE.fullmatch(value):
            raise HttpError(400, "a field value contains a control character")
        fields.append((name.decode("ascii"), value.decode("latin-1")))
    request = Request(method.decode("ascii"), target.decode("latin-1"), version.decode("ascii"), fields)
    if request.version != "HTTP/1.0" and len(request.values("host")) != 1:
        raise HttpError(400, "an HTTP/1.1 request needs exactly one Host field")
    return request


class Site:
    """The resources: static files under the document root, /echo and /note."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.note = INITIAL_NOTE

    def respond(self, request: Request) -> Response:
        if request.path == "/echo":
            if request.method != "POST":
                return self.not_allowed("POST")
            return self.echo(request)
        if request.path == "/note":
            if request.method == "PUT":
                self.note = request.body
                return Response(204, [("ETag", entity_tag(self.note))])
            if request.method not in ("GET", "HEAD"):
                return self.not_allowed("GET, HEAD, PUT")
            return self.representation(request, self.note, CONTENT_TYPES["txt"])
        path = self.resolve(request.path)
        if path is None:
            return text_response(404, f"{request.path} not found")
        if request.method not in ("GET", "HEAD"):
            return self.not_allowed("GET, HEAD")
        extension = path.suffix[1:].lower()
        return self.representation(request, path.read_bytes(), CONTENT_TYPES.get(extension, "application/octet-stream"))

    def resolve(self, url_path: str) -> Path | None:
        parts = ("index.html" if url_path == "/" else url_path[1:]).split("/")
        if any(part in ("", ".", "..") for part in parts):
            return None
        path = self.root.joinpath(*parts)
        return path if path.is_file() and path.resolve().is_relative_to(self.root) else None

    @staticmethod
    def representation(request: Request, content: bytes, content_type: str) -> Response:
        tag = entity_tag(content)
        if none_match(request, tag):
            return Response(304, [("ETag", tag)])
        return Response(200, [("Content-Type", content_type), ("ETag", tag)], content)

    @staticmethod
    def echo(request: Request) -> Response:
        document = {
            "method": request.method,
            "target": request.target,
            "version": request.version,
            "headers": [[name, value] for name, value in request.fields],
            "body": request.body.decode("utf-8", errors="replace"),
        }
        return Response(200, [("Content-Type", "application/json")], json.dumps(document).encode())

    @staticmethod
    def not_allowed(allow: str) -> Response:
        return Response(405, [("Allow", allow), ("Content-Type", "text/plain; charset=utf-8")], b"method not allowed\n")


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, site: Site) -> None:
        self.reader = reader
        self.writer = writer
        self.site = site
        self.buffer = bytearray()

    async def serve(self) -> None:
        try:
            while await self.serve_one():
                pass
        except (ConnectionError, ClientGone):
            pass  # the client left; nothing to answer
        finally:
            self.writer.close()

    async def serve_one(self) -> bool:
        """Reads one request and answers it; False when the connection is to be closed."""
        try:
            async with asyncio.timeout(HEAD_TIMEOUT):
                head = await self.read_head()
        except TimeoutError:
            if self.buffer.strip(b"\r\n"):
                await self.send(text_response(408, "request head not received in time", close=True), False)
            return False
        except HttpError as error:
            await self.send(text_response(error.status, error.detail, close=True), False)
            return False
        if head is None:
            return False
        request = None
        try:
            request = parse_head(head)
            await self.read_body(request)
            response = self.site.respond(request)
        except HttpError as error:
            response = text_response(error.status, error.detail, close=True)
        response.close = response.close or (request is not None and request.wants_close)
        await self.send(response, request is not None and request.method == "HEAD")
        return not response.close

    async def send(self, response: Response, head_only: bool) -> None:
        self.writer.write(response.encode(head_only))
        await self.writer.drain()

    async def fill(self, timeout: float | None = None) -> bool:
        """Reads more bytes into the buffer; False at end of stream."""
        async with asyncio.timeout(timeout):
            data = await self.reader.read(READ_SIZE)
        self.buffer += data
        return bool(data)

    async def read_head(self) -> bytes | None:
        """The next request head without its final CRLF CRLF; None if the client closed between requests."""
        while True:
            while self.buffer.startswith(b"\r\n"):  # empty lines before a request line are ignored (RFC 9112 §2.2)
                del self.buffer[:2]
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                if end + 4 > MAX_HEAD:
                    raise HttpError(431, f"the request head is larger than {MAX_HEAD} bytes")
                head = bytes(self.buffer[:end])
                del self.buffer[: end + 4]
                return head
            if len(self.buffer) >= MAX_HEAD:
                raise HttpError(431, f"the request head is larger than {MAX_HEAD} bytes")
            if not await self.fill():
                return None

    async def read_body(self, request: Request) -> None:
        codings = request.values("transfer-encoding")
        lengths = request.values("content-length")
        if codings and lengths:
            raise HttpError(400, "both Transfer-Encoding and Content-Length")
        if codings:
            if [c.strip().lower() for value in codings for c in value.split(",")] != ["chunked"]:
                raise HttpError(501, "the only transfer coding supported is chunked")
        elif lengths and (len(lengths) != 1 or not (lengths[0].isascii() and lengths[0].isdigit())):
            raise HttpError(400, "Content-Length must be one number")
        elif lengths and int(lengths[0]) > MAX_BODY:
            raise HttpError(413, f"the body is larger than {MAX_BODY} bytes")
        if request.method not in METHODS:
            raise HttpError(501, f"method {request.method} is not implemented")
        if codings:
            request.body = await self.read_chunked()
        elif lengths:
            request.body = await self.read_exactly(int(lengths[0]))

    async def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not await self.fill(BODY_READ_TIMEOUT):
                raise ClientGone
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def read_line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            if len(self.buffer) > MAX_HEAD:
                raise HttpError(400, "a line of the chunked body is too long")
            if not await self.fill(BODY_READ_TIMEOUT):
                raise ClientGone
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    async def read_chunked(self) -> bytes:
        """Decodes a chunked body (RFC 9112 §7.1): extensions and trailer fields are read and dropped."""
        body = bytearray()
        while True:
            size_text = (await self.read_line()).split(b";", 1)[0].strip(b" \t")
            if not HEX.fullmatch(size_text):
                raise HttpError(400, "a chunk size must be hexadecimal")
            size = int(size_text, 16)
            if len(body) + size > MAX_BODY:
                raise HttpError(413, f"the body is larger than {MAX_BODY} bytes")
            if size == 0:
                break
            body += await self.read_exactly(size)
            if await self.read_exactly(2) != b"\r\n":
                raise HttpError(400, "chunk data must be followed by CRLF")
        trailer_size = 0
        while line := await self.read_line():
            trailer_size += len(line) + 2
            if trailer_size > MAX_HEAD:
                raise HttpError(431, "the trailer section is too large")
        return bytes(body)


async def main_async(port: int, root: Path) -> None:
    site = Site(root)
    server = await asyncio.start_server(lambda r, w: Connection(r, w, site).serve(), HOST, port, backlog=128)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main() -> int:
    port = os.environ.get("PORT", "")
    if not port.isdigit():
        print("PORT must be set to a TCP port number", file=sys.stderr)
        return 2
    root = Path(os.environ.get("DOCROOT") or "public")
    if not root.is_dir():
        print(f"document root {root} is not a folder", file=sys.stderr)
        return 2
    asyncio.run(main_async(int(port), root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
