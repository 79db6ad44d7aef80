"""A TCP client for graders: exact reads with deadlines, byte-at-a-time sends, resets, and a transcript."""

from __future__ import annotations

import socket
import struct
import time
from typing import NoReturn

from labkit import context
from labkit.checks import fail
from labkit.ports import LOOPBACK
from labkit.render import escape_bytes


class TcpClient:
    """One client connection to the learner's server. Every read has a deadline; every byte is logged."""

    def __init__(self, sock: socket.socket, label: str, timeout: float) -> None:
        self.sock = sock
        self.label = label
        self.timeout = timeout
        sock.settimeout(timeout)

    @classmethod
    def connect(
        cls, port: int, *, label: str = "client", timeout: float = 2.0, receive_buffer: int | None = None
    ) -> TcpClient:
        """``receive_buffer`` (bytes) is set before the handshake, where it bounds the window the client offers:
        a small one keeps most of a large reply the client does not read in the server's own buffers."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if receive_buffer is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.settimeout(timeout)
            sock.connect((LOOPBACK, port))
        except OSError as error:
            sock.close()
            fail(
                f"{label} could not connect to {LOOPBACK}:{port}: {error.strerror or error}",
                hint="is your server still running and accepting? See its stderr below",
            )
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        context.log(f"{label}: connected to {LOOPBACK}:{port}")
        return cls(sock, label, timeout)

    def send(self, data: bytes, *, note: str = "") -> None:
        context.log(f"{self.label} → {len(data)} bytes{_note(note)}: {escape_bytes(data, 64)}")
        self.sock.sendall(data)

    def send_in_pieces(self, data: bytes, size: int = 1, *, note: str = "") -> None:
        """Sends ``data`` in writes of ``size`` bytes, so a server that assumes one read = one message fails."""
        context.log(f"{self.label} → {len(data)} bytes in writes of {size}{_note(note)}: {escape_bytes(data, 64)}")
        for start in range(0, len(data), size):
            self.sock.sendall(data[start : start + size])
            time.sleep(0.0005)  # lets each piece leave as its own segment on loopback

    def recv_exact(self, count: int, what: str, *, hint: str | None = None) -> bytes:
        """Reads exactly ``count`` bytes or fails saying how many arrived before EOF or the deadline."""
        chunks: list[bytes] = []
        received = 0
        deadline = time.monotonic() + self.timeout
        while received < count:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                self.sock.settimeout(remaining)
                chunk = self.sock.recv(min(count - received, 1 << 20))
            except TimeoutError:
                self._incomplete(what, count, b"".join(chunks), f"no more bytes within {self.timeout:g} s", hint)
            except ConnectionResetError:
                self._incomplete(what, count, b"".join(chunks), "the connection was reset by your program", hint)
            if not chunk:
                self._incomplete(what, count, b"".join(chunks), "your program closed the connection", hint)
            chunks.append(chunk)
            received += len(chunk)
        data = b"".join(chunks)
        context.log(f"{self.label} ← {len(data)} bytes ({what}): {escape_bytes(data, 64)}")
        return data

    def _incomplete(self, what: str, count: int, partial: bytes, reason: str, hint: str | None) -> NoReturn:
        context.log(f"{self.label} ← only {len(partial)} of {count} bytes of {what}: {reason}")
        if hint is None and partial:
            hint = "a reply must be written completely (loop over send / use sendall) and in request order"
        elif hint is None:
            hint = "answer as soon as a request is complete; do not wait for more bytes than it announced"
        fail(
            f"{self.label} expected {count} bytes of {what} but got {len(partial)}: {reason}",
            expected=f"{count} bytes",
            got=escape_bytes(partial) if partial else "nothing",
            hint=hint,
        )

    def recv_u32_frame(self, what: str, max_size: int, *, hint: str | None = None) -> bytes:
        """Reads a big-endian u32 length prefix and that many bytes, refusing absurd lengths."""
        header = self.recv_exact(4, f"{what} length prefix", hint=hint)
        (length,) = struct.unpack(">I", header)
        if length > max_size:
            fail(
                f"{what} announces {length} bytes, more than the {max_size} the spec allows",
                got=escape_bytes(header),
                hint="the length prefix is a big-endian u32 counting only the bytes after it",
            )
        return self.recv_exact(length, f"{what} body", hint=hint) if length else b""

    def closed_by_peer(self, within: float) -> bool:
        """True when the server closes (EOF or reset) within ``within`` seconds; any data read is discarded."""
        deadline = time.monotonic() + within
        while (remaining := deadline - time.monotonic()) > 0:
            self.sock.settimeout(remaining)
            try:
                if not self.sock.recv(65536):
                    context.log(f"{self.label}: connection closed by your program")
                    return True
            except TimeoutError:
                break
            except (ConnectionResetError, BrokenPipeError):
                context.log(f"{self.label}: connection reset by your program")
                return True
        context.log(f"{self.label}: connection still open after {within:g} s")
        return False

    def reset(self) -> None:
        """Closes with a TCP RST instead of a FIN (SO_LINGER 0), like a crashed client."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        context.log(f"{self.label}: reset the connection (RST)")

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> TcpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def _note(note: str) -> str:
    return f" ({note})" if note else ""
