"""HTTP/1.1 on the wire, from the grader's side: requests built by hand (so they can be malformed on purpose)
and a strict response parser that names the exact byte where a response breaks RFC 9112 or the lab's rules."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from labkit.render import escape_bytes

HOST = "localhost"
MAX_HEAD = 8192  # the lab's limit on a request head (request line + fields + final CRLF)
MAX_BODY = 1024 * 1024  # the lab's limit on a request body, after chunked decoding
MAX_RESPONSE_HEAD = 64 * 1024  # the grader gives up on a response head longer than this
MAX_RESPONSE_BODY = 64 * 1024 * 1024

STATUS_PREFIX = b"HTTP/1.1 "
TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
FIELD_VALUE_BYTES = frozenset([0x09, *range(0x20, 0x7F), *range(0x80, 0x100)])


# --- requests ----------------------------------------------------------------------------------------------


def request(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    *,
    version: str = "HTTP/1.1",
    host: bool = True,
) -> bytes:
    """A request in bytes, with the field lines of ``request_fields``."""
    fields = request_fields(headers, body, host=host)
    lines = [f"{method} {target} {version}", *(f"{name}: {value}" for name, value in fields)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def request_fields(
    headers: Sequence[tuple[str, str]], body: bytes | None, *, host: bool = True
) -> list[tuple[str, str]]:
    """``Host`` first unless ``host=False``, then ``headers``; a ``body`` without an explicit Content-Length or
    Transfer-Encoding gets a Content-Length last."""
    fields = [("Host", HOST)] if host else []
    fields += headers
    names = {name.lower() for name, _ in fields}
    if body is not None and not names & {"content-length", "transfer-encoding"}:
        fields.append(("Content-Length", str(len(body))))
    return fields


def many_fields_head(size: int, target: str = "/") -> bytes:
    """A complete GET head of exactly ``size`` bytes made of many short fields, none longer than 80 bytes."""
    lines = [request("GET", target)[:-2]]  # the request line and Host, without the final empty line
    left = size - len(lines[0]) - 2
    number = 0
    while left > 0:
        number += 1
        name = f"X-Field-{number}: ".encode()
        value_size = min(60, left - len(name) - 2)
        if left - (len(name) + value_size + 2) < 20:  # too little left for another field: this one takes it all
            value_size = left - len(name) - 2
        lines.append(name + b"v" * value_size + b"\r\n")
        left -= len(lines[-1])
    data = b"".join(lines) + b"\r\n"
    assert len(data) == size, (len(data), size)
    return data


def chunked(
    parts: Iterable[bytes],
    *,
    extensions: Sequence[str] = (),
    upper_hex: bool = False,
    zero_pad: int = 0,
    trailers: Sequence[tuple[str, str]] = (),
) -> bytes:
    """A chunked body (RFC 9112 §7.1): each part becomes one chunk; ``extensions`` go on every chunk-size line."""
    suffix = "".join(f";{extension}" for extension in extensions)
    out = bytearray()
    for part in parts:
        size = f"{len(part):0{zero_pad}x}"
        out += f"{size.upper() if upper_hex else size}{suffix}\r\n".encode() + part + b"\r\n"
    out += f"{'0' * max(zero_pad, 1)}{suffix}\r\n".encode()
    out += b"".join(f"{name}: {value}\r\n".encode() for name, value in trailers)
    return bytes(out + b"\r\n")


def letters(rng: random.Random, size: int) -> bytes:
    """``size`` random bytes of lowercase letters, spaces and newlines, made quickly from ``rng``."""
    return rng.randbytes(size).translate(_LETTERS)


_LETTERS = bytes(b"abcdefghijklmnopqrstuvwxyz \n"[n % 28] for n in range(256))


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    points = sorted({cut for cut in cuts if 0 < cut < len(data)})
    return [data[start:end] for start, end in zip([0, *points], [*points, len(data)], strict=True)]


# --- responses ---------------------------------------------------------------------------------------------


class ResponseError(Exception):
    """A response broke the rules at ``offset`` (counted from the first byte of that response)."""

    def __init__(self, offset: int, problem: str, hint: str | None = None) -> None:
        super().__init__(problem)
        self.offset = offset
        self.problem = problem
        self.hint = hint


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    offset: int  # of the field line, within the response


@dataclass(frozen=True)
class Head:
    status: int
    reason: str
    fields: tuple[Field, ...]
    size: int  # bytes up to and including the empty line

    def values(self, name: str) -> list[str]:
        return [field.value for field in self.fields if field.name.lower() == name.lower()]

    def field(self, name: str) -> Field | None:
        return next((field for field in self.fields if field.name.lower() == name.lower()), None)


@dataclass(frozen=True)
class Response:
    head: Head
    body: bytes
    raw: bytes

    @property
    def status(self) -> int:
        return self.head.status

    @property
    def status_line(self) -> str:
        return f"HTTP/1.1 {self.head.status} {self.head.reason}".rstrip()

    def header(self, name: str) -> str | None:
        """The value of a field, or None; several field lines with the name are joined with ", " (RFC 9110 §5.3)."""
        values = self.head.values(name)
        return ", ".join(values) if values else None

    def tokens(self, name: str) -> set[str]:
        """The comma-separated tokens of a list field such as Connection, lowercased."""
        return {token.lower() for token in self.list_items(name)}

    def list_items(self, name: str) -> list[str]:
        return [item.strip() for value in self.head.values(name) for item in value.split(",") if item.strip()]

    @property
    def allow(self) -> set[str]:
        """The methods in Allow, as sent: method names are case-sensitive."""
        return set(self.list_items("Allow"))

    @property
    def closes(self) -> bool:
        return "close" in self.tokens("Connection")

    def summary(self) -> str:
        return f"{self.status_line} ({len(self.body)}-byte body)"


def parse_response(data: bytes, method: str) -> Response | None:
    """Parses the response at the start of ``data`` to a request of ``method``; None while it is incomplete."""
    head = parse_head(data)
    if head is None:
        return None
    length = body_length(head, method)
    if len(data) < head.size + length:
        return None
    end = head.size + length
    return Response(head, bytes(data[head.size : end]), bytes(data[:end]))


def parse_head(data: bytes) -> Head | None:
    """Validates every complete line of a response head; None until the empty line that ends it arrives."""
    _check_prefix(data)
    lines: list[tuple[int, bytes]] = []
    position = 0
    while True:
        newline = data.find(b"\n", position)
        if newline < 0:
            if len(data) > MAX_RESPONSE_HEAD:
                raise ResponseError(MAX_RESPONSE_HEAD, f"no end of the head within {MAX_RESPONSE_HEAD} bytes")
            return None
        if newline == position or data[newline - 1] != 0x0D:
            raise ResponseError(
                newline,
                "a line ends with a bare LF",
                'every line of an HTTP/1.1 head ends with CRLF "\\r\\n" (RFC 9112 §2.2)',
            )
        line = data[position : newline - 1]
        if (stray := line.find(b"\r")) >= 0:
            raise ResponseError(position + stray, "a CR inside a line (not followed by LF)")
        if not line:
            if not lines:
                raise ResponseError(position, "an empty line where the status line should be")
            return _build_head(lines, newline + 1)
        lines.append((position, line))
        position = newline + 1


def _check_prefix(data: bytes) -> None:
    shown = data[: len(STATUS_PREFIX)]
    for offset, byte in enumerate(shown):
        if byte != STATUS_PREFIX[offset]:
            raise ResponseError(
                offset,
                f'a response must start with "HTTP/1.1 " but starts with {escape_bytes(shown)}',
                "the status line is HTTP-version SP status-code SP reason-phrase CRLF (RFC 9112 §4); "
                "this lab always answers with HTTP/1.1, also to HTTP/1.0 requests",
            )


def _build_head(lines: list[tuple[int, bytes]], size: int) -> Head:
    status, reason = _parse_status_line(lines[0][1])
    fields = tuple(_parse_field_line(offset, line) for offset, line in lines[1:])
    head = Head(status, reason, fields, size)
    _check_framing_fields(head)
    return head


def _parse_status_line(line: bytes) -> tuple[int, str]:
    code = line[9:12]
    for index, byte in enumerate(code):
        if not 0x30 <= byte <= 0x39:
            raise ResponseError(9 + index, "the status code must be three digits")
    if len(line) < 12:
        raise ResponseError(len(line), "the status line ends before its three-digit status code")
    if len(line) == 12 or line[12] != 0x20:
        raise ResponseError(
            12,
            "the status code must be followed by a space",
            "the space after the code is required even when the reason phrase is empty (RFC 9112 §4)",
        )
    for index, byte in enumerate(line[13:], start=13):
        if byte not in FIELD_VALUE_BYTES:
            raise ResponseError(index, f"byte 0x{byte:02x} is not allowed in a reason phrase")
    return int(code), line[13:].decode("latin-1")


def _parse_field_line(offset: int, line: bytes) -> Field:
    if line[0] in (0x20, 0x09):
        raise ResponseError(
            offset, "a field line starts with whitespace (obsolete line folding)", "servers must not fold fields"
        )
    colon = line.find(b":")
    end_of_name = colon if colon >= 0 else len(line)
    for index, byte in enumerate(line[:end_of_name]):
        if byte not in TCHAR:
            if byte in (0x20, 0x09):
                raise ResponseError(
                    offset + index,
                    "whitespace between a field name and its colon",
                    "write Name: value, with the colon right after the name (RFC 9112 §5.1)",
                )
            raise ResponseError(offset + index, f"byte 0x{byte:02x} is not allowed in a field name")
    if colon < 0:
        raise ResponseError(offset + len(line), "a field line without a colon")
    if colon == 0:
        raise ResponseError(offset, "a field line with an empty name")
    for index in range(colon + 1, len(line)):
        if line[index] not in FIELD_VALUE_BYTES:
            raise ResponseError(offset + index, f"control byte 0x{line[index]:02x} in a field value")
    return Field(line[:colon].decode("ascii"), line[colon + 1 :].strip(b" \t").decode("latin-1"), offset)


def _check_framing_fields(head: Head) -> None:
    if 100 <= head.status < 200:
        raise ResponseError(9, f"an interim {head.status} response", "send only final responses (no 1xx) in this lab")
    if encoding := head.field("Transfer-Encoding"):
        raise ResponseError(
            encoding.offset,
            "a Transfer-Encoding field in a response",
            "this lab frames every response body with Content-Length; do not send chunked responses",
        )
    lengths = [field for field in head.fields if field.name.lower() == "content-length"]
    if len(lengths) > 1:
        raise ResponseError(lengths[1].offset, "a second Content-Length field", "send Content-Length exactly once")
    if lengths and not (lengths[0].value.isascii() and lengths[0].value.isdigit()):
        raise ResponseError(lengths[0].offset, f"Content-Length {lengths[0].value!r} is not a number of bytes")
    if lengths and head.status == 204:
        raise ResponseError(
            lengths[0].offset,
            "a 204 response with a Content-Length field",
            "a server must not send Content-Length in a 1xx or 204 response (RFC 9110 §8.6)",
        )


def body_length(head: Head, method: str) -> int:
    """How many body bytes follow the head (RFC 9112 §6.3), given that this lab requires Content-Length."""
    if method == "HEAD" or head.status in (204, 304):
        return 0
    length = head.field("Content-Length")
    if length is None:
        raise ResponseError(
            head.size - 2,
            f"the head of a {head.status} response ends without a Content-Length field",
            "without Content-Length the client cannot tell where the body ends; send it on every response "
            "except 204 and 304, even when the body is empty (Content-Length: 0)",
        )
    size = int(length.value)
    if size > MAX_RESPONSE_BODY:
        raise ResponseError(length.offset, f"Content-Length {size} is far larger than any response of this lab")
    return size


def point_at(data: bytes, offset: int, width: int = 48) -> str:
    """Two lines: the escaped bytes around ``offset`` (within its line) and a caret under the byte at ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1 if offset > 0 else 0
    if offset - line_start < 8 and line_start > 0:  # too little to recognise: show the line before too
        line_start = data.rfind(b"\n", 0, line_start - 1) + 1
    start = max(line_start, offset - width)
    line_end = data.find(b"\n", offset)
    end = min(len(data), offset + width // 2, line_end + 1 if line_end >= 0 else len(data))
    end = max(end, min(offset + 1, len(data)))
    before = escape_bytes(data[start:offset], limit=1 << 20)
    shown = escape_bytes(data[start:end], limit=1 << 20)
    lead = "…" if start > 0 else ""
    return f"{lead}{shown}\n{' ' * (len(lead) + len(before) - 1)}^"
