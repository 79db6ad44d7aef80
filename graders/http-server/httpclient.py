"""A raw HTTP/1.1 client connection for the grader.

Requests go out as exact bytes. Every response is read with the grader's strict parser (which points at the
byte that breaks the rules) and then handed to h11, a well-kept HTTP/1.1 implementation, playing the client:
a response must satisfy both before any check looks at its status, fields or body.
"""

from __future__ import annotations

import socket
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn, TypedDict, Unpack

import h11

from httpwire import HOST, Head, Response, ResponseError, parse_head, parse_response, point_at, request, split_at
from labkit.checks import fail, log
from labkit.render import escape_bytes
from labkit.tools.tcp import TcpClient


@dataclass(frozen=True)
class Pending:
    """A request the server owes a response to, as the client (and h11) understands it."""

    what: str
    method: str = "GET"
    target: str = "/"
    version: str = "HTTP/1.1"
    close: bool = False  # the request asked to close: Connection: close, or HTTP/1.0


class SendOptions(TypedDict, total=False):
    """What ``exchange`` passes on to ``send_request`` besides the request itself."""

    version: str
    what: str | None
    cuts: Sequence[int]
    pause: float


class _Timeout(Exception):
    pass


class HttpConnection:
    """One TCP connection to the learner's server. Bytes received are kept, so offsets are exact."""

    def __init__(self, tcp: TcpClient) -> None:
        self.tcp = tcp
        self.label = tcp.label
        self.timeout = tcp.timeout
        self.received = bytearray()
        self.position = 0  # where the next response starts in ``received``
        self.ended: str | None = None  # "closed" or "reset" once the server has ended the connection
        self.pending: deque[Pending] = deque()
        self.previous: tuple[Pending, Response] | None = None
        self.oracle = h11.Connection(h11.CLIENT)

    @classmethod
    def connect(cls, port: int, *, label: str = "client", timeout: float = 2.0) -> HttpConnection:
        return cls(TcpClient.connect(port, label=label, timeout=timeout))

    # --- sending ---------------------------------------------------------------------------------------------

    def send(self, data: bytes, *, note: str = "") -> None:
        self.send_pieces(data, (), note=note)

    def send_pieces(self, data: bytes, cuts: Sequence[int], *, pause: float = 0.01, note: str = "") -> None:
        """Sends ``data`` cut at ``cuts`` as separate writes, pausing between them so each read sees a piece.

        If the server closes the connection meanwhile, the rest is dropped and the reads that follow say what the
        server did: how far sending got is a matter of timing, so no verdict depends on it."""
        pieces = split_at(data, cuts)
        how = f" in {len(pieces)} writes" if len(pieces) > 1 else ""
        log(f"{self.label} → {len(data)} bytes{how} ({note}): {escape_bytes(data, 64)}")
        for number, piece in enumerate(pieces):
            if number:
                time.sleep(pause)  # deliberate: the gap is what the server must cope with
            try:
                self.tcp.sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                log(f"{self.label}: your server closed the connection; the rest was not sent")
                return

    def send_request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
        *,
        version: str = "HTTP/1.1",
        what: str | None = None,
        cuts: Sequence[int] = (),
        pause: float = 0.01,
    ) -> Pending:
        data = request(method, target, headers, body, version=version)
        pending = self.expect_answer_to(
            what or describe(method, target, body),
            method=method,
            target=target,
            version=version,
            close=asks_to_close(headers, version),
        )
        if cuts:
            self.send_pieces(data, cuts, pause=pause, note=pending.what)
        else:
            self.send(data, note=pending.what)
        return pending

    def expect_answer_to(
        self, what: str, *, method: str = "GET", target: str = "/", version: str = "HTTP/1.1", close: bool = False
    ) -> Pending:
        """Registers a request sent as raw bytes, so the next ``expect_response`` reads its response."""
        pending = Pending(what, method, target, version, close)
        self.pending.append(pending)
        return pending

    def shutdown_write(self) -> None:
        self.tcp.sock.shutdown(socket.SHUT_WR)
        log(f"{self.label}: shut down its sending side (FIN)")

    def close(self) -> None:
        self.tcp.close()

    # --- receiving -------------------------------------------------------------------------------------------

    def exchange(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
        **options: Unpack[SendOptions],
    ) -> Response:
        """Sends one request and reads its response."""
        self.send_request(method, target, headers, body, **options)
        return self.expect_response()

    def expect_response(self, *, hint: str | None = None) -> Response:
        """Reads the response to the oldest unanswered request; fails on anything malformed, late or missing."""
        pending = self.pending.popleft()
        self._refuse_after_close(pending)
        deadline = time.monotonic() + self.timeout
        while True:
            data = bytes(self.received[self.position :])
            try:
                response = parse_response(data, pending.method)
            except ResponseError as error:
                self._invalid(pending, data, error)
            if response is not None:
                break
            if self.ended:
                self._cut_short(pending, data, hint)
            try:
                self._receive(deadline)
            except _Timeout:
                self._no_response(pending, data, hint)
        log(f"{self.label} ← {response.summary()}: {escape_bytes(response.raw, 64)}")
        self._confirm_with_h11(pending, response)
        self.position += len(response.raw)
        self.previous = (pending, response)
        return response

    def _receive(self, deadline: float) -> None:
        sock = self.tcp.sock
        sock.settimeout(max(deadline - time.monotonic(), 0.0))  # 0: a last look at what has already arrived
        try:
            chunk = sock.recv(1 << 20)
        except (TimeoutError, BlockingIOError):
            raise _Timeout from None
        except ConnectionResetError:
            self.ended = "reset"
            log(f"{self.label}: connection reset by your server")
            return
        if not chunk:
            self.ended = "closed"
            log(f"{self.label}: connection closed by your server")
            return
        self.received += chunk

    def expect_closed(
        self,
        within: float,
        after: str,
        *,
        hint: str | None = None,
        timeout_reply: bool = False,
        since: float | None = None,
    ) -> None:
        """The server must end the connection within ``within`` seconds (of ``since``, by default now), sending
        nothing more (but a ``408 Request Timeout`` response when ``timeout_reply``)."""
        deadline = (since if since is not None else time.monotonic()) + within
        while not self.ended:
            if timeout_reply and self.position < len(self.received):
                self.expect_answer_to(f"nothing (the connection was idle after {after})")
                expect_408(self.expect_response(), after)
                continue
            if self.position < len(self.received):
                extra = bytes(self.received[self.position :])
                another = "another response" if extra.startswith(b"HTTP/") else "more bytes"
                fail(
                    f"{self.label}: after {after} your server should close the connection, but it sent {another}",
                    got=escape_bytes(extra),
                    hint=hint or "after the last response on a connection that is closing, send nothing more",
                )
            try:
                self._receive(deadline)
            except _Timeout:
                fail(
                    f"{self.label}: the connection was still open {within:g} s after {after}",
                    expected="your server closes the connection",
                    got="still open",
                    hint=hint,
                )

    def expect_still_open(self, within: float, after: str, *, hint: str | None = None) -> None:
        """Nothing arrives and the connection stays open for ``within`` seconds."""
        deadline = time.monotonic() + within
        while True:
            if self.position < len(self.received):
                fail(
                    f"{self.label}: after {after} your server sent bytes that answer no request",
                    got=escape_bytes(bytes(self.received[self.position :])),
                    hint=hint,
                )
            if self.ended:
                fail(
                    f"{self.label}: your server closed the connection after {after}",
                    expected="the connection stays open for the next request",
                    got=f"connection {self.ended}",
                    hint=hint
                    or "HTTP/1.1 connections are persistent: keep reading requests until the client "
                    "closes, asks to close, or times out (RFC 9112 §9.3)",
                )
            try:
                self._receive(deadline)
            except _Timeout:
                return

    # --- verdicts --------------------------------------------------------------------------------------------

    def _refuse_after_close(self, pending: Pending) -> None:
        if self.previous is None:
            return
        before, response = self.previous
        if response.closes and not before.close:
            fail(
                f"{self.label}: your response to {before.what} carried Connection: close, so {pending.what} "
                "on the same connection can never be answered",
                got=f"{response.status_line} with Connection: {response.header('Connection')}",
                hint="keep HTTP/1.1 connections open unless the client sends Connection: close (RFC 9112 §9.3)",
            )

    def _where(self, offset: int) -> str:
        where = f"byte {offset} of the response"
        return where + (f" (byte {self.position + offset} on this connection)" if self.position else "")

    def _invalid(self, pending: Pending, data: bytes, error: ResponseError) -> NoReturn:
        message = f"{self.label}: the response to {pending.what} is not valid HTTP/1.1 at {self._where(error.offset)}"
        hint = error.hint
        if error.offset < len(b"HTTP/1.1 ") and self.previous is not None:
            before, response = self.previous
            if before.method == "HEAD" or response.status in (204, 304):
                message += f"; these bytes follow your response to {before.what}"
                hint = f"a {response.status} response to {before.method} has no body: after its head, send nothing "
                hint += "but the next response (RFC 9110 §9.3.2, §15.4.5)"
        fail(
            f"{message}: {error.problem}\n{_indent(point_at(data, error.offset))}",
            got=escape_bytes(data[: max(error.offset + 16, 96)]),
            hint=hint,
        )

    def _cut_short(self, pending: Pending, data: bytes, hint: str | None) -> NoReturn:
        # Closed or reset: which one a client sees after a close often depends on timing, so only Got says.
        if not data:
            fail(
                f"{self.label}: your server closed the connection without answering {pending.what}",
                expected="a response",
                got=f"connection {self.ended}",
                hint=hint
                or (
                    "HTTP/1.1 connections are persistent: after a response, read the next request on the same "
                    "connection (RFC 9112 §9.3)"
                    if self.previous
                    else "answer every complete request before closing; see your server's stderr below"
                ),
            )
        head = parse_head(data)
        where = "head" if head is None else "body"
        fail(
            f"{self.label}: your server closed the connection in the middle of the {where} of the response to "
            f"{pending.what}",
            got=f"{_progress(head, data)}, then the connection was {self.ended}: {escape_bytes(data)}",
            hint="write each response completely (sendall, or loop over send) before closing",
        )

    def _no_response(self, pending: Pending, data: bytes, hint: str | None) -> NoReturn:
        if not data:
            fail(
                f"{self.label}: no response to {pending.what} within {self.timeout:g} s",
                expected="a response",
                got="nothing",
                hint=hint or "answer as soon as a request is complete; do not wait for more bytes than it has",
            )
        head = parse_head(data)
        where = "head" if head is None else "body"
        fail(
            f"{self.label}: the response to {pending.what} stopped in the middle of its {where}; nothing more "
            f"within {self.timeout:g} s",
            got=f"{_progress(head, data)}: {escape_bytes(data)}",
            hint=hint or "Content-Length must be the exact number of body bytes, and the body must be sent in full",
        )

    def _confirm_with_h11(self, pending: Pending, response: Response) -> None:
        if self.oracle.states == {h11.CLIENT: h11.DONE, h11.SERVER: h11.DONE}:
            self.oracle.start_next_cycle()
        if self.oracle.states != {h11.CLIENT: h11.IDLE, h11.SERVER: h11.IDLE}:
            self.oracle = h11.Connection(h11.CLIENT)  # the grader sent past a close: judge this exchange alone
        confirm_with_h11(self.oracle, pending, response, self.label)


def confirm_with_h11(oracle: h11.Connection, pending: Pending, response: Response, label: str) -> None:
    """h11 plays the client of the same exchange: it must accept the response and frame it the same way."""
    # h11 only sends HTTP/1.1; for reading the response, an HTTP/1.0 request is one that asks to close.
    headers = [("Host", HOST)] + ([("Connection", "close")] if pending.close else [])
    oracle.send(h11.Request(method=pending.method, target=pending.target, headers=headers))
    oracle.send(h11.EndOfMessage())
    oracle.receive_data(response.raw)
    events = []
    try:
        while not isinstance(event := oracle.next_event(), h11.EndOfMessage):
            if event is h11.NEED_DATA:
                fail(
                    f"{label}: h11, a strict HTTP/1.1 parser, expects more of the response to {pending.what} "
                    "than its Content-Length announces",
                    got=escape_bytes(response.raw[: response.head.size]),
                )
            events.append(event)
    except h11.RemoteProtocolError as error:
        fail(
            f"{label}: h11, a strict HTTP/1.1 parser, rejects the response to {pending.what}: {error}",
            got=escape_bytes(response.raw[: response.head.size]),
            hint="compare the head with RFC 9112 §4 (status line) and §5 (field lines)",
        )
    status = next(event.status_code for event in events if isinstance(event, h11.Response))
    body = b"".join(bytes(event.data) for event in events if isinstance(event, h11.Data))
    if (status, body) != (response.status, response.body):
        fail(f"{label}: h11 reads the response to {pending.what} differently from its Content-Length")


def validate_lone_response(data: bytes, what: str, label: str) -> Response:
    """Validates bytes that must be exactly one complete response (to a GET), as ``expect_response`` would."""
    pending = Pending(what)
    try:
        response = parse_response(data, pending.method)
    except ResponseError as error:
        fail(
            f"{label}: the response to {what} is not valid HTTP/1.1 at byte {error.offset}: {error.problem}\n"
            + _indent(point_at(data, error.offset)),
            got=escape_bytes(data[: max(error.offset + 16, 96)]),
            hint=error.hint,
        )
    if response is None or len(response.raw) != len(data):
        fail(f"{label}: the bytes sent as the response to {what} are not one complete response", got=escape_bytes(data))
    confirm_with_h11(h11.Connection(h11.CLIENT), pending, response, label)
    return response


def expect_408(response: Response, after: str) -> None:
    if response.status != 408:
        fail(
            f"after {after}, your server sent an unrequested {response.status} response",
            got=response.status_line,
            hint="when a connection times out, close it; the only response allowed then is 408 Request Timeout",
        )


def _progress(head: Head | None, data: bytes) -> str:
    if head is None:
        return f"{len(data)} bytes without the end of the head"
    length = head.field("Content-Length")
    return f"{len(data) - head.size} of the {length.value if length else '?'} body bytes"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def asks_to_close(headers: Sequence[tuple[str, str]], version: str) -> bool:
    tokens = {t.strip().lower() for name, value in headers if name.lower() == "connection" for t in value.split(",")}
    return "close" in tokens or version == "HTTP/1.0"


def describe(method: str, target: str, body: bytes | None = None) -> str:
    text = f"{method} {target}"
    return text + (f" with a body of {len(body)} bytes" if body else "")
