"""Stage 1: the opening handshake (RFC 6455 section 4): 101 with the right Sec-WebSocket-Accept, or an HTTP error."""

import base64
import random
from collections.abc import Callable

from labkit.checks import expect
from rawclient import UpgradeOptions, build_request, expect_switching, new_key
from wsframes import TEXT

MAX_HEAD = 8192  # the longest request head a server must accept, counted up to and including its blank line

RFC_SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3; its accept value is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
VALIDATE_HINT = (
    "before answering 101, check the method (GET), HTTP/1.1, Host, Upgrade: websocket, Connection: Upgrade, "
    "a Sec-WebSocket-Key of 16 bytes in base64 and Sec-WebSocket-Version (RFC 6455 section 4.2.1)"
)


def check_rfc_sample_key_gets_the_rfc_accept_value(raw):
    """The RFC's sample key gets the RFC's Sec-WebSocket-Accept"""
    client = raw(path=None)
    client.send_upgrade("/echo", key=RFC_SAMPLE_KEY)
    expect_switching(client.read_response("response to the upgrade request"), RFC_SAMPLE_KEY, "/echo")


def check_random_keys_get_their_accept_values(raw):
    """Random keys each get their own Sec-WebSocket-Accept"""
    for number in range(1, 4):
        raw(f"client {number}")


def check_websockets_library_connects(lib):
    """The websockets library connects (and the extension it offers is not accepted)"""
    client = lib("websockets client")
    extensions = client.ws.response.headers.get("Sec-WebSocket-Extensions")
    expect(
        extensions is None,
        f"your server accepted the extension {extensions!r} offered by the client",
        hint="ignore Sec-WebSocket-Extensions in the request: this server negotiates no extension",
    )


def check_names_and_tokens_are_case_insensitive(raw, rng):
    """Header names and the Upgrade and Connection tokens are case-insensitive; Connection may list tokens"""
    client = raw(path=None)
    key = new_key(rng)
    client.send_upgrade(
        "/echo",
        key=key,
        change={
            "host": f"127.0.0.1:{client.port}",
            "UPGRADE": "WebSocket",
            "connection": "keep-alive, upgrade",
            "sec-websocket-key": f"\t{key} \t",  # spaces and tabs around a value are not part of it
            "SEC-WEBSOCKET-VERSION": " 13\t",
            "User-Agent": "labkit-grader",
        },
    )
    expect_switching(client.read_response("response to an upgrade request with unusual spelling"), key, "/echo")
    listed = raw(path=None)
    key = new_key(rng)
    listed.send_upgrade("/echo", key=key, change={"Upgrade": "foo/1, websocket", "Connection": "Upgrade, close"})
    expect_switching(listed.read_response("response to Upgrade: foo/1, websocket"), key, "/echo")


def check_request_split_across_writes(raw):
    """An upgrade request that arrives in a dozen small writes is read whole"""
    raw(path=None).handshake("/echo", pieces=12)


class Upgrade(UpgradeOptions, total=False):
    """An invalid upgrade request: how it differs from a valid one, its key included."""

    key: str


def check_invalid_upgrades_get_400(raw, rng, alive):
    """Requests that are not valid upgrades get 400 Bad Request, then the connection is closed"""
    cases: list[tuple[str, Upgrade]] = [
        ("no Upgrade header", {"change": {"Upgrade": None}}),
        ("Upgrade: h2c", {"change": {"Upgrade": "h2c"}}),
        ("Connection: keep-alive (no upgrade token)", {"change": {"Connection": "keep-alive"}}),
        ("no Sec-WebSocket-Key", {"change": {"Sec-WebSocket-Key": None}}),
        ("a Sec-WebSocket-Key of 8 bytes", {"key": base64.b64encode(rng.randbytes(8)).decode()}),
        # 24 characters of base64, as long as a valid key: only decoding tells 17 and 18 bytes from 16.
        ("a Sec-WebSocket-Key of 17 bytes", {"key": base64.b64encode(rng.randbytes(17)).decode()}),
        ("a Sec-WebSocket-Key of 18 bytes", {"key": base64.b64encode(rng.randbytes(18)).decode()}),
        ("a Sec-WebSocket-Key that is not base64", {"key": "this is not base64!!"}),
        *((f"a Sec-WebSocket-Key {what}", Upgrade(key=key)) for what, key in spoiled_keys(rng)),
        ("no Sec-WebSocket-Version", {"change": {"Sec-WebSocket-Version": None}}),
        ("no Host header", {"change": {"Host": None}}),
        ("the method POST", {"method": "POST"}),
        ("HTTP/1.0", {"version": "HTTP/1.0"}),
    ]
    for what, options in cases:
        client = raw(path=None)
        client.send_upgrade("/echo", **options)
        client.expect_refusal(400, f"an upgrade request with {what}", hint=VALIDATE_HINT)
    for what, spoil in MALFORMED:
        client = raw(path=None)
        client.send(spoil(build_request("/echo", new_key(rng), client.port)), note=what)
        client.expect_refusal(400, f"an upgrade request with {what}", hint=VALIDATE_HINT)
    alive("after the invalid upgrade requests")


def spoiled_keys(rng: random.Random) -> list[tuple[str, str]]:
    """Keys of 16 bytes that a lenient decoder accepts but are not valid base64: a character outside the alphabet
    (which a lenient decoder skips), the URL-safe alphabet, or no padding."""
    key = new_key(rng)
    # The standard alphabet's + and / (from bytes 0xFB 0xFF), written in the URL-safe alphabet as - and _.
    url_safe = base64.b64encode(b"\xfb\xff" + rng.randbytes(14)).decode().replace("+", "-").replace("/", "_")
    return [
        ("with a '.' among its base64 characters", f"{key[:8]}.{key[8:]}"),
        ("with a space in the middle", f"{key[:12]} {key[12:]}"),
        ("in the URL-safe alphabet (- and _)", url_safe),
        ("without its = padding", key.rstrip("=")),
    ]


def add_header_line(line: bytes) -> Callable[[bytes], bytes]:
    """Puts ``line`` right after the request line of a valid request."""
    return lambda valid: valid.replace(b"\r\n", b"\r\n" + line + b"\r\n", 1)


# Requests no option of build_request can spell, each made from a valid one.
MALFORMED: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("two spaces in the request line", lambda valid: valid.replace(b"GET /echo", b"GET  /echo", 1)),
    ("a request line without a version", lambda valid: valid.replace(b" HTTP/1.1\r\n", b"\r\n", 1)),
    ("a header line without a colon", add_header_line(b"X-Broken-Line")),
    ("a space between a header name and its colon", add_header_line(b"X-Spaced : 1")),
    ("a header line with an empty name", add_header_line(b": no name")),
    ("a header line that starts with a space", add_header_line(b" X-Indented: 1")),
]


def check_unsupported_version_gets_426(raw):
    """Sec-WebSocket-Version 8 gets 426 Upgrade Required with Sec-WebSocket-Version: 13"""
    client = raw(path=None)
    client.send_upgrade("/echo", change={"Sec-WebSocket-Version": "8"})
    response = client.expect_refusal(
        426,
        "an upgrade request with Sec-WebSocket-Version: 8",
        hint="a version other than 13 gets 426 Upgrade Required (RFC 6455 section 4.4)",
    )
    expect(
        response.header("sec-websocket-version") == "13",
        f"the 426 response must say Sec-WebSocket-Version: 13, not {response.header('sec-websocket-version')!r}",
        hint="the header tells the client which version this server speaks (RFC 6455 section 4.2.2)",
    )


def check_unknown_paths_get_404(raw):
    """Upgrade requests for paths other than /echo and /chat, even ones that start alike, get 404 Not Found"""
    for path in ("/nowhere", "/", "/echoes", "/echo/", "/chat/room", "/chatroom?name=bob"):
        client = raw(path=None)
        client.send_upgrade(path)
        client.expect_refusal(
            404,
            f"an upgrade request for {path}",
            hint="the path (the target up to any ?) must be exactly /echo or /chat",
        )


def check_query_is_ignored_on_echo(raw):
    """A query string on /echo is ignored"""
    client = raw(path="/echo?room=1&name=x")
    client.send_frame(TEXT, b"with a query")
    client.expect_frame(TEXT, b"with a query", "the echo on /echo?room=1&name=x", hint="/echo ignores its query string")


def check_the_first_problem_decides_the_status(raw):
    """A request with several problems gets the status of the first one, in the README's order"""
    cases: list[tuple[str, str, Upgrade, int]] = [
        ("the method POST for /nowhere", "/nowhere", {"method": "POST"}, 400),
        ("no Sec-WebSocket-Key for /nowhere", "/nowhere", {"change": {"Sec-WebSocket-Key": None}}, 404),
        ("version 8 without a Host header", "/echo", {"change": {"Host": None, "Sec-WebSocket-Version": "8"}}, 400),
        ("version 8 and the invalid name al.ice", "/chat?name=al.ice", {"change": {"Sec-WebSocket-Version": "8"}}, 426),
    ]
    for what, path, options, status in cases:
        client = raw(path=None)
        client.send_upgrade(path, **options)
        client.expect_refusal(
            status,
            f"an upgrade request with {what}",
            hint="check in the README's order: request line, path (404), headers (400), version (426), then the name",
        )


def check_a_head_of_max_head_bytes_is_accepted(raw, rng):
    """A request head of exactly MAX_HEAD (8192) bytes, blank line included, is accepted"""
    client = raw(path=None)
    key = new_key(rng)
    short = build_request("/echo", key, client.port, change={"User-Agent": ""})
    padding = "x" * (MAX_HEAD - len(short))
    request = build_request("/echo", key, client.port, change={"User-Agent": padding})
    client.send(request, note=f"an upgrade request of {len(request)} bytes")
    expect_switching(client.read_response(f"response to an upgrade request of {len(request)} bytes"), key, "/echo")
