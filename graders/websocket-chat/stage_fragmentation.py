"""Stage 4: messages in several frames are reassembled, with control frames between the fragments."""

from collections.abc import Sequence

from rawclient import RawWebSocket
from wsframes import BINARY, CONT, PING, PONG, TEXT

REASSEMBLE_HINT = (
    "a Text or Binary frame with FIN=0 starts a message; continuation frames (opcode 0x0) add to it until one has "
    "FIN=1; then echo the whole message as one frame (RFC 6455 section 5.4)"
)


def send_fragments(client: RawWebSocket, opcode: int, parts: Sequence[bytes]) -> None:
    for number, part in enumerate(parts):
        client.send_frame(
            opcode if number == 0 else CONT,
            part,
            fin=number == len(parts) - 1,
            note=f"fragment {number + 1} of {len(parts)}",
        )


def check_text_message_in_three_fragments(raw):
    """A text message in three fragments comes back as one message"""
    client = raw()
    parts = [b"Hello, ", b"fragmented ", b"world"]
    send_fragments(client, TEXT, parts)
    client.expect_frame(TEXT, b"".join(parts), "the echo of a message sent in 3 fragments", hint=REASSEMBLE_HINT)


def check_binary_message_with_an_empty_fragment(raw, rng):
    """A binary message in four fragments, one of them empty, comes back as one message"""
    client = raw()
    parts = [rng.randbytes(10), b"", rng.randbytes(200), rng.randbytes(3)]
    send_fragments(client, BINARY, parts)
    client.expect_frame(BINARY, b"".join(parts), "the echo of a binary message in 4 fragments", hint=REASSEMBLE_HINT)


def check_character_split_across_fragments(raw):
    """A UTF-8 character split between two fragments is valid text"""
    client = raw()
    text = "h\u00e9llo w\u00f6rld \U0001f600!".encode()
    split_e_acute, split_emoji = 2, text.index("\U0001f600".encode()) + 2
    parts = [text[:split_e_acute], text[split_e_acute:split_emoji], text[split_emoji:]]
    send_fragments(client, TEXT, parts)
    client.expect_frame(
        TEXT,
        text,
        "the echo of a text message whose characters straddle fragments",
        hint="check UTF-8 on the reassembled message, not per fragment: a fragment may end inside a character",
    )


def check_ping_between_fragments_is_answered_at_once(raw):
    """A Ping between two fragments is answered before the message is complete; the message survives"""
    client = raw()
    client.send_frame(TEXT, b"first half, ", fin=False, note="fragment 1 of 2")
    client.send_frame(PING, b"in the middle")
    client.expect_frame(
        PONG,
        b"in the middle",
        "the Pong for a Ping sent between fragments",
        hint="control frames may come between fragments: answer them at once (RFC 6455 section 5.4)",
    )
    client.send_frame(CONT, b"second half", note="fragment 2 of 2")
    client.expect_frame(
        TEXT,
        b"first half, second half",
        "the echo of the message around the Ping",
        hint="a control frame between fragments must not reset the partial message",
    )


def check_hundred_fragments_in_one_write(raw, rng):
    """A 100 000-byte message in 100 fragments, all in one write, comes back whole"""
    client = raw()
    payload = rng.randbytes(100_000)
    parts = [payload[start : start + 1000] for start in range(0, len(payload), 1000)]
    stream = b"".join(
        client.frame(BINARY if n == 0 else CONT, part, fin=n == len(parts) - 1) for n, part in enumerate(parts)
    )
    client.send(stream, note="100 fragments of 1000 bytes")
    client.expect_frame(BINARY, payload, "the echo of a message in 100 fragments", hint=REASSEMBLE_HINT)


def check_websockets_library_fragments(lib):
    """A fragmented message from the websockets library comes back whole"""
    client = lib("websockets client")
    client.send(["frag", "mented ", "\u00fcber ", "alles"], note="a text message in 4 fragments")
    client.expect_message("fragmented \u00fcber alles", "the echo of the fragmented message", hint=REASSEMBLE_HINT)
