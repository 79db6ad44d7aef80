"""Stage 3: a Ping is answered with a Pong carrying the same payload; an unsolicited Pong is ignored."""

from labkit.checks import expect
from wsframes import PING, PONG, TEXT

PONG_HINT = "answer a Ping (0x9) with a Pong (0xA) whose payload is exactly the Ping's (RFC 6455 section 5.5.2)"


def check_ping_gets_pong_with_the_same_payload(raw, rng):
    """A Ping gets a Pong with exactly its payload (5, 0 and 125 bytes)"""
    client = raw()
    for payload in (b"hello", b"", rng.randbytes(125)):
        client.send_frame(PING, payload)
        client.expect_frame(PONG, payload, f"the Pong for a {len(payload)}-byte Ping", hint=PONG_HINT)


def check_pings_between_messages_are_answered_in_order(raw):
    """Pings between messages, all in one write, are answered in order with the echoes"""
    client = raw()
    frames = [(TEXT, b"one"), (PING, b"p1"), (TEXT, b"two"), (PING, b"p2")]
    client.send(b"".join(client.frame(opcode, payload) for opcode, payload in frames), note="text, ping, text, ping")
    for opcode, payload in frames:
        reply = PONG if opcode == PING else TEXT
        what = f"the Pong for Ping {payload.decode()!r}" if opcode == PING else f"the echo of {payload.decode()!r}"
        client.expect_frame(reply, payload, what, hint=PONG_HINT)


def check_unsolicited_pong_is_ignored(raw):
    """An unsolicited Pong gets no answer, and the connection keeps working"""
    client = raw()
    client.send_frame(PONG, b"unsolicited", note="nobody asked for it")
    client.send_frame(TEXT, b"after the pong")
    client.expect_frame(
        TEXT,
        b"after the pong",
        "the echo of the message sent after an unsolicited Pong",
        hint="a Pong that answers nothing is simply ignored (RFC 6455 section 5.5.3): no reply, no close",
    )


def check_websockets_library_ping(lib):
    """The websockets library's ping is acknowledged"""
    client = lib("websockets client")
    answered = client.ping(b"library ping")
    expect(answered, "the websockets client sent a Ping and got no matching Pong within 2 s", hint=PONG_HINT)
