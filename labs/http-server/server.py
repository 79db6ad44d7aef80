"""http-server starter: an HTTP/1.1 origin server on a plain TCP socket.

Read README.md first: it is the complete specification, and the grader checks exactly what it says.

Run it with:   PORT=8080 python3 server.py          (serves ./public; set DOCROOT to serve another folder)
Try it with:   curl -v http://127.0.0.1:8080/
Grade it with: labkit grade http-server

The point of this lab is to write HTTP yourself, so use no HTTP library: not http.server, http.client,
urllib.request, socketserver's HTTP handlers, h11, aiohttp, or any other. Sockets, selectors, threading,
asyncio (its TCP streams or protocols), json, hashlib, re and pathlib are all fine.

As shipped, this file only reports that it is not written yet and exits with status 1, so the first stage
(static-files) fails with "exited before it was ready". That is expected. Replace the TODOs below; you may
restructure everything (threads, selectors or asyncio) as long as the behaviour matches the README.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"

# --- Limits (README.md, "Limits and timeouts") ---------------------------------------------------------------

MAX_HEAD = 8192  # bytes in a request head: request line + field lines + the empty line that ends it
MAX_BODY = 1024 * 1024  # bytes in a request body, after chunked decoding
HEAD_TIMEOUT = 1.0  # seconds a connection gets to deliver a whole request head

# --- Content types by file extension (README.md, "Static files") -------------------------------------------

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
DEFAULT_CONTENT_TYPE = "application/octet-stream"

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


class HttpError(Exception):
    """Raise with a status (400, 413, 431, 501, 505) to refuse a request: answer it, then close the connection."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


@dataclass
class Request:
    method: str  # e.g. "GET" (case-sensitive)
    target: str  # e.g. "/docs/guide.txt?v=2", as sent
    version: str  # "HTTP/1.1" or "HTTP/1.0"
    fields: list[tuple[str, str]]  # (name as sent, value with surrounding spaces and tabs removed), in order
    body: bytes = b""


@dataclass
class Response:
    status: int
    fields: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def parse_head(head: bytes) -> Request:
    """Parse a request head (everything before the CRLF CRLF that ends it) into a Request without a body.

    Request line: method SP target SP version. Field lines: name ":" OWS value OWS. Raise HttpError(400, ...)
    for anything malformed and HttpError(505, ...) for a version other than HTTP/1.x (see README.md, "Requests").
    """
    raise NotImplementedError("TODO: parse_head")


def encode_response(response: Response, *, head_only: bool, close: bool) -> bytes:
    """Serialize a response: status line, field lines, Content-Length, empty line, body.

    Every line ends with CRLF. Send Content-Length on every response except 204 and 304. ``head_only`` is for
    HEAD requests: the same head, no body. ``close`` adds Connection: close.
    """
    raise NotImplementedError("TODO: encode_response")


def respond(docroot: Path, request: Request) -> Response:
    """Route a complete request to a resource: a static file, /echo or /note (README.md, "Resources")."""
    raise NotImplementedError("TODO: respond")


def serve(port: int, docroot: Path) -> None:
    """Listen on HOST:port and serve HTTP/1.1 connections until the process is stopped.

    For each connection, in a loop: read a request head (at most MAX_HEAD bytes, within HEAD_TIMEOUT), parse it,
    read its body (Content-Length or chunked), answer it, and go on with the bytes left in your buffer, until the
    client closes, asks to close, or an error closes the connection. Serve many connections at once.
    """
    raise NotImplementedError("TODO: serve (socket.create_server((HOST, port)) makes the listening socket)")


def main() -> int:
    port = os.environ.get("PORT", "")
    docroot = Path(os.environ.get("DOCROOT") or "public")
    print(f"TODO: implement the server (see README.md); it must listen on {HOST}:{port or '$PORT'}", file=sys.stderr)
    return 1  # TODO: delete this line once serve() is written
    serve(int(port), docroot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
