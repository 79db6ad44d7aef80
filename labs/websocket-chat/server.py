"""websocket-chat starter: a WebSocket server (RFC 6455) with an echo endpoint and a chat room.

Read README.md first: it is the complete specification, and the grader checks exactly what it says.

Run it with:   PORT=7070 python3 server.py
Grade it with: labkit grade websocket-chat

Rules: no WebSocket or HTTP library (websockets, wsproto, aiohttp, h11, http.server, ...). Plain sockets and
the standard library only: socket with threads or selectors, or asyncio streams; hashlib, base64, struct, json.

As shipped, this file only reports that it is not written yet and exits with status 1, so the first stage
(handshake) fails with "exited before it was ready". Replace the TODOs below; restructure freely (threads,
selectors or asyncio are all fine) as long as the behaviour matches the README.
"""

from __future__ import annotations

import os
import sys

HOST = "127.0.0.1"

# --- Handshake (README: The opening handshake) --------------------------------------------------------------
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # appended to Sec-WebSocket-Key before hashing
MAX_HEAD = 8192  # the longest request head you must accept

# --- Frames (README: Frames) --------------------------------------------------------------------------------
OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

# --- Close status codes (README: Closing) --------------------------------------------------------------------
CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009

# --- Limits (README: Limits) --------------------------------------------------------------------------------
MAX_MESSAGE = 1024 * 1024  # the largest message, all fragments together; larger: Close 1009
BACKLOG_LIMIT = 1024 * 1024  # a chat member with more than this queued is dropped


def accept_value(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64 of the raw SHA-1 digest of key + GUID.

    For the RFC's sample key "dGhlIHNhbXBsZSBub25jZQ==" the answer is "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
    """
    raise NotImplementedError("TODO: accept_value")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A frame as a server sends it: FIN set, never masked, the shortest length encoding (7, 16 or 64 bits)."""
    raise NotImplementedError("TODO: encode_frame")


def unmask(payload: bytes, key: bytes) -> bytes:
    """payload[i] XOR key[i % 4]. A Python loop over a 1 MiB message is slow: XOR int.from_bytes values instead."""
    raise NotImplementedError("TODO: unmask")


def handle_connection(conn) -> None:
    """One client, from its first byte to its last (``conn``: a socket, or an asyncio reader/writer pair).

    1. Read the request head up to the blank line (it may arrive in pieces; bytes after it are frame data).
    2. Validate it: answer 101 with Sec-WebSocket-Accept, or 400 / 404 / 409 / 426 and close.
    3. Read frames: unmask, reassemble fragments, answer Pings at once, echo Closes, and fail the connection
       with 1002 / 1003 / 1007 / 1009 when the client breaks the rules.
    4. /echo: send every message back. /chat: welcome, join, message, error and leave events as JSON.
    """
    raise NotImplementedError("TODO: handle_connection")


def serve(port: int) -> None:
    """Listen on HOST:port and serve every client at the same time.

    In the chat, never wait for one member while delivering to the others: a member that stops reading must
    not delay anybody (README: Slow members). Queue per member, and drop a member whose queue passes
    BACKLOG_LIMIT.
    """
    raise NotImplementedError("TODO: serve")


def main() -> int:
    port = os.environ.get("PORT", "")
    print(f"TODO: implement the server (see README.md); it must listen on {HOST}:{port or '$PORT'}", file=sys.stderr)
    return 1  # TODO: delete this line once serve() is written
    serve(int(port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
