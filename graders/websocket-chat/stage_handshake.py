"""Stage 1: the opening handshake (RFC 6455 section 4): 101 with the right Sec-WebSocket-Accept, or an HTTP error."""

import base64

from labkit.checks import expect
from rawclient import UpgradeOptions, expect_switching, new_key

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
            "sec-websocket-key": key,
            "SEC-WEBSOCKET-VERSION": "13",
            "User-Agent": "labkit-grader",
        },
    )
    expect_switching(client.read_response("response to an upgrade request with unusual spelling"), key, "/echo")


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
        ("a Sec-WebSocket-Key that is not base64", {"key": "this is not base64!!"}),
        ("no Sec-WebSocket-Version", {"change": {"Sec-WebSocket-Version": None}}),
        ("no Host header", {"change": {"Host": None}}),
        ("the method POST", {"method": "POST"}),
        ("HTTP/1.0", {"version": "HTTP/1.0"}),
    ]
    for what, options in cases:
        client = raw(path=None)
        client.send_upgrade("/echo", **options)
        client.expect_refusal(400, f"an upgrade request with {what}", hint=VALIDATE_HINT)
    alive("after the invalid upgrade requests")


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


def check_unknown_path_gets_404(raw):
    """An upgrade request for an unknown path gets 404 Not Found"""
    client = raw(path=None)
    client.send_upgrade("/nowhere")
    client.expect_refusal(404, "an upgrade request for /nowhere", hint="only /echo and /chat exist")
