"""tcp-kv starter: an in-memory key-value store over TCP with a length-prefixed binary protocol.

Read README.md first: it is the complete specification, and the grader checks exactly what it says.

Run it with:   PORT=7070 python3 server.py
Grade it with: labkit grade tcp-kv

As shipped, this file only reports that it is not written yet and exits with status 1, so the first
stage (connect) fails with "exited before listening". Replace the TODOs below; you may restructure
everything (threads, selectors or asyncio are all fine) as long as the behaviour matches the README.
"""

from __future__ import annotations

import os
import socket
import sys

# --- Protocol constants (README.md, "Frames") ---------------------------------------------------------

MAX_FRAME = 4 * 1024 * 1024  # largest allowed value of a frame's u32 length prefix (4 MiB)
MAX_KEY = 1024  # keys are 1..1024 bytes

# Request opcodes (first byte of a request body)
OP_GET = 0x01
OP_SET = 0x02
OP_DELETE = 0x03

# Response statuses (first byte of a response body)
STATUS_OK = 0x00
STATUS_NOT_FOUND = 0x01
STATUS_ERROR = 0x02

HOST = "127.0.0.1"


def read_exact(sock: socket.socket, n: int) -> bytes:
    """Return exactly ``n`` bytes from ``sock``.

    One ``recv`` may return fewer bytes than asked for (or bytes of the next frame, if you ask for more),
    so loop until you have ``n``. Decide what to do when the peer closes in the middle (``recv`` returns
    ``b""``) or resets the connection (``ConnectionResetError``).
    """
    raise NotImplementedError("TODO: read_exact")


def read_frame(sock: socket.socket) -> bytes | None:
    """Read one frame and return its body, or None when the client has closed the connection.

    A frame is a big-endian u32 length followed by that many bytes. Check the length against
    MAX_FRAME *before* reading the body: an oversize frame gets an ERROR response and the connection is
    closed, without reading or allocating the announced body.
    """
    raise NotImplementedError("TODO: read_frame")


def handle_request(store: dict[bytes, bytes], body: bytes) -> bytes:
    """Apply one request body to ``store`` and return the response *body* (status byte + payload).

    Request body: opcode (u8), key_len (u16, big-endian), key, then the value (SET only).
    Malformed bodies (too short, unknown opcode, bad key_len, bytes after the key of a GET or DELETE)
    get STATUS_ERROR with a short message, and the connection stays open.
    """
    raise NotImplementedError("TODO: handle_request")


def serve(port: int) -> None:
    """Listen on HOST:port and serve clients until SIGTERM.

    - Many clients at once: an idle or slow client must not block the others.
    - Send every response completely (``sendall``, or loop over ``send``'s return value).
    - A client that disconnects or resets at any moment must not crash the server.
    - On SIGTERM: stop accepting, answer requests already received, close connections, exit 0
      within 2 seconds.
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
