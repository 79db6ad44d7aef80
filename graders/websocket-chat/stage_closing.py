"""Stage 5: the closing handshake: a Close is answered with the same status code, then the server closes TCP."""

from labkit.checks import expect
from rawclient import RawWebSocket
from wsframes import CLOSE, TEXT, close_payload

CLOSE_HINT = (
    "answer a Close with a Close whose payload is the received 2-byte status code (no reason), or empty if the "
    "client's Close was empty; then close the TCP connection (RFC 6455 sections 5.5.1 and 7.1)"
)


REASON_HINT = (
    "a Close reason is UTF-8 text from the byte right after the 2-byte status code (it may start with a "
    "multi-byte character); a valid Close gets the status code back, without the reason (RFC 6455 section 5.5.1)"
)


def expect_close_reply(client: RawWebSocket, code: int, reason: str = "") -> None:
    what = f"the Close reply with status {code}" + (f" to a Close with the reason {reason!r}" if reason else "")
    client.expect_frame(CLOSE, close_payload(code), what, hint=REASON_HINT if reason else CLOSE_HINT)
    client.expect_tcp_closed("Close reply", last_frame=True)


def check_close_1000_is_answered_and_tcp_closed(raw):
    """A Close with status 1000 and a reason gets a Close with 1000, then the TCP connection is closed"""
    client = raw()
    client.send_close(1000, b"bye")
    expect_close_reply(client, 1000)


# Reasons are UTF-8 from their first byte on, right after the status code: some start with a multi-byte character.
REASONS = {1003: "\u00e7a va", 4000: "see you", 4999: "\u20ac \U0001f44b"}


def check_close_status_code_is_echoed(raw):
    """The Close reply carries the client's own status code, at both ends of each valid range, whatever the reason"""
    for code in (1001, 1003, 1007, 1014, 3000, 4000, 4999):
        client = raw(f"client closing with {code}")
        reason = REASONS.get(code, "")
        client.send_close(code, reason.encode())
        expect_close_reply(client, code, reason)


def check_empty_close_gets_an_empty_close(raw):
    """A Close without a payload gets a Close without a payload"""
    client = raw()
    client.send_close(None)
    client.expect_frame(CLOSE, b"", "the Close reply to an empty Close", hint=CLOSE_HINT)
    client.expect_tcp_closed("closing handshake")


def check_message_before_close_is_answered_first(raw):
    """A message sent in the same write as the Close is echoed before the Close reply"""
    client = raw()
    client.send(client.frame(TEXT, b"last words") + client.frame(CLOSE, close_payload(1000)), note="text, then Close")
    client.expect_frame(TEXT, b"last words", "the echo of the message sent just before the Close")
    expect_close_reply(client, 1000)


def check_websockets_library_close(lib):
    """The websockets library's close() completes a clean closing handshake"""
    client = lib("websockets client")
    client.ws.close(1000, "done")
    code = client.ws.close_code  # the status of the server's Close; 1006 when none came within 1 s
    expect(
        code == 1000,
        "the websockets client sent Close 1000 and got no Close back within 1 s"
        if code == 1006
        else f"the websockets client sent Close 1000 and got Close {code} back",
        hint=CLOSE_HINT,
    )


def check_clients_that_vanish_do_not_stop_the_server(raw, alive, rng):
    """Clients that vanish mid-frame (FIN or reset) or mid-handshake do not stop the server"""
    half_frame = raw("client closing mid-frame")
    half_frame.send(half_frame.frame(TEXT, b"never finished")[:5], note="5 bytes of a frame")
    half_frame.tcp.close()
    reset = raw("client resetting mid-frame")
    reset.send(reset.frame(TEXT, rng.randbytes(50))[:20], note="20 bytes of a frame")
    reset.tcp.reset()
    half_request = raw("client leaving mid-handshake", path=None)
    half_request.send(b"GET /echo HTTP/1.1\r\nHost: 127", note="part of an upgrade request")
    half_request.tcp.reset()
    alive("after clients vanished")
    survivor = raw("next client")
    survivor.send_frame(TEXT, b"still there?")
    survivor.expect_frame(TEXT, b"still there?", "the echo for a client that came after the vanished ones")
