"""What the lab's README promises about responses, as checks with messages a learner can act on."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from httpclient import HttpConnection
from httpwire import Response, request_fields
from labkit.checks import fail
from labkit.render import describe_difference, escape_bytes
from site_files import SiteFile

CLOSE_WITHIN_S = 1.0
ENTITY_TAG = re.compile(r'"[\x21\x23-\x7e\x80-\xff]*"')  # opaque-tag, RFC 9110 §8.8.3


def got_response(response: Response) -> str:
    return f"{response.status_line} with body {escape_bytes(response.body, 80)}"


def expect_status(response: Response, status: int, what: str, *, hint: str | None = None) -> None:
    if response.status != status:
        fail(
            f"the response to {what} has status {response.status}, expected {status}",
            expected=f"HTTP/1.1 {status} …",
            got=got_response(response),
            hint=hint,
        )


def expect_field(response: Response, name: str, what: str, *, hint: str | None = None) -> str:
    value = response.header(name)
    if value is None:
        fail(
            f"the {response.status} response to {what} has no {name} field",
            got=escape_bytes(response.raw[: response.head.size]),
            hint=hint,
        )
    return value


def normalise_media_type(value: str) -> str:
    return re.sub(r"[ \t]", "", value).lower()


def expect_content_type(response: Response, expected: str, what: str) -> None:
    got = expect_field(response, "Content-Type", what, hint=f"send Content-Type: {expected}")
    if normalise_media_type(got) != normalise_media_type(expected):
        fail(
            f"the Content-Type of the response to {what} is wrong",
            expected=expected,
            got=got,
            hint="the README's table maps the file extension to the Content-Type; unknown extensions and names "
            "without one are application/octet-stream",
        )


def expect_same_bytes(got: bytes, expected: bytes, message: str, *, hint: str | None = None) -> None:
    """Like ``expect_bytes``, with the offsets in Got: a truncated body's length often depends on timing."""
    if got != expected:
        fail(
            message,
            expected=f"{len(expected)} bytes: {escape_bytes(expected, 80)}",
            got=f"{len(got)} bytes: {escape_bytes(got, 80)}\n{describe_difference(expected, got)}",
            hint=hint,
        )


def expect_body(response: Response, expected: bytes, what: str, *, hint: str | None = None) -> None:
    expect_same_bytes(
        response.body,
        expected,
        f"the body of the response to {what} is not the expected {len(expected)} bytes (the body starts at "
        f"byte {response.head.size} of the response)",
        hint=hint,
    )


def expect_file(response: Response, file: SiteFile, what: str | None = None) -> None:
    what = what or f"GET {file.path}"
    expect_status(response, 200, what)
    expect_content_type(response, file.content_type, what)
    expect_body(response, file.content, what, hint="serve the file's bytes exactly, in binary mode")


def expect_allow(response: Response, methods: set[str], what: str) -> None:
    expected = ", ".join(sorted(methods))
    expect_field(response, "Allow", what, hint=f"a 405 response must list the allowed methods: Allow: {expected}")
    if response.allow != methods:
        fail(
            f"the Allow field of the 405 response to {what} lists the wrong methods",
            expected=expected,
            got=response.header("Allow"),
            hint="Allow lists exactly the methods the resource supports, e.g. GET, HEAD for files (RFC 9110 §10.2.1)",
        )


def expect_no_close_header(response: Response, what: str) -> None:
    if response.closes:
        fail(
            f"your response to {what} carries Connection: close, but the client did not ask to close",
            got=f"Connection: {response.header('Connection')}",
            hint="HTTP/1.1 connections are persistent by default (RFC 9112 §9.3)",
        )


def expect_error_and_close(conn: HttpConnection, status: int, what: str, *, hint: str | None = None) -> Response:
    """Reads a response that must be ``status`` with Connection: close, after which the server must close."""
    response = conn.expect_response(hint=hint)
    expect_status(response, status, what, hint=hint)
    if not response.closes:
        fail(
            f"the {status} response to {what} must carry Connection: close, since the server closes next",
            got=escape_bytes(response.raw[: response.head.size]),
            hint="after 400, 413, 431, 501 and 505 the server closes the connection and says so first (RFC 9112 §9.6)",
        )
    conn.expect_closed(CLOSE_WITHIN_S, f"the {status} response to {what}")
    return response


def expect_strong_etag(response: Response, what: str) -> str:
    tag = expect_field(response, "ETag", what, hint='send a strong entity-tag, e.g. ETag: "3f2a9c"')
    if not ENTITY_TAG.fullmatch(tag):
        fail(
            f"the ETag of the response to {what} is not a strong entity-tag",
            expected='a quoted string such as "3f2a9c" (no W/ prefix, no spaces, no inner quotes)',
            got=tag,
            hint="entity-tag = [ W/ ] DQUOTE *etagc DQUOTE (RFC 9110 §8.8.3); this lab wants strong tags",
        )
    return tag


# --- the JSON echo -----------------------------------------------------------------------------------------


def expect_echo(
    response: Response,
    what: str,
    *,
    method: str = "POST",
    target: str = "/echo",
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    fields: Sequence[tuple[str, str]] | None = None,
    version: str = "HTTP/1.1",
    hint: str | None = None,
) -> None:
    """The echo must describe the request exactly; ``fields`` defaults to what ``httpwire.request`` sent for
    these ``headers`` and ``body`` (None: no body and no Content-Length added)."""
    expect_status(response, 200, what, hint=hint)
    expect_content_type(response, "application/json", what)
    document = _parse_json(response, what)
    for key, expected in (("method", method), ("target", target), ("version", version)):
        _expect_key(document, key, expected, what)
    sent = fields if fields is not None else request_fields(headers, body)
    body = body or b""
    _expect_echoed_fields(document, [[name, value] for name, value in sent], what)
    got_body = document.get("body")
    if not isinstance(got_body, str):
        fail(f'the echo of {what} has no string "body"', got=escape_bytes(response.body, 200))
    expect_same_bytes(
        got_body.encode("utf-8"),
        body,
        f'"body" in the echo of {what} is not the body of {len(body)} bytes that was sent',
        hint=hint,
    )


def _parse_json(response: Response, what: str) -> dict[str, object]:
    try:
        text = response.body.decode("utf-8")
    except UnicodeDecodeError as error:
        fail(
            f"the body of the response to {what} is not UTF-8 at byte {error.start} of the body",
            got=escape_bytes(response.body, 120),
        )
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        offset = len(text[: error.pos].encode("utf-8"))
        fail(
            f"the body of the response to {what} is not valid JSON at byte {offset} of the body: {error.msg}",
            got=escape_bytes(response.body, 120),
            hint="build the reply with a JSON library rather than by pasting strings together",
        )
    if not isinstance(document, dict):
        fail(f"the echo of {what} must be a JSON object", got=escape_bytes(response.body, 120))
    return document


def _expect_key(document: dict[str, object], key: str, expected: object, what: str) -> None:
    if key not in document:
        fail(f'the echo of {what} has no "{key}"', expected=f'"{key}": {json.dumps(expected)}')
    if document[key] != expected:
        fail(
            f'"{key}" in the echo of {what} is wrong',
            expected=json.dumps(expected),
            got=json.dumps(document[key]),
            hint="method, target and version are the three parts of the request line, as sent",
        )


def _expect_echoed_fields(document: dict[str, object], expected: list[list[str]], what: str) -> None:
    got = document.get("headers")
    if not isinstance(got, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair) for pair in got
    ):
        fail(
            f'"headers" in the echo of {what} must be a list of [name, value] pairs',
            got=json.dumps(got)[:200],
        )
    if got == expected:
        return
    pairs = enumerate(zip(got, expected, strict=False))
    index = next((n for n, (a, b) in pairs if a != b), min(len(got), len(expected)))
    mine = expected[index] if index < len(expected) else None
    theirs = got[index] if index < len(got) else None
    fail(
        f'"headers" in the echo of {what} differs from the request at field {index} (counting from 0)',
        expected=json.dumps(mine) if mine else f"only {len(expected)} fields",
        got=json.dumps(theirs) if theirs else f"only {len(got)} fields",
        hint=_field_hint(mine, theirs),
    )


def _field_hint(sent: list[str] | None, echoed: list[str] | None) -> str:
    if sent and echoed and sent[0] == echoed[0] and sent[1] == echoed[1].strip(" \t"):
        return "remove the spaces and tabs around a field value (OWS, RFC 9110 §5.6.3) but none inside it"
    if sent and echoed and sent[0].lower() == echoed[0].lower() and sent[0] != echoed[0]:
        return "report field names as they were received; compare them case-insensitively, but do not rewrite them"
    return "list every field line of the request, in order, repeated names included; trailer fields are not listed"
