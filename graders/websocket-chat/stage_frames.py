"""Stage 2: data frames of all three length encodings, masked by the client, echoed unmasked byte for byte."""

import time
from collections.abc import Iterable

from rawclient import RawWebSocket, build_request, expect_switching, new_key
from wsframes import BINARY, TEXT, random_text

LENGTH_HINT = (
    "after the 7-bit length: 126 means a 16-bit big-endian length follows, 127 a 64-bit one (RFC 6455 section 5.2); "
    "then the 4-byte masking key, then the masked payload"
)


def expect_echoes(client: RawWebSocket, opcode: int, payloads: Iterable[bytes], hint: str = LENGTH_HINT) -> None:
    kind = "text" if opcode == TEXT else "binary"
    for payload in payloads:
        client.send_frame(opcode, payload)
        client.expect_frame(opcode, payload, f"the echo of a {len(payload)}-byte {kind} message", hint=hint)


def check_text_with_7_bit_lengths(raw, rng):
    """Text frames of 0 to 125 bytes (7-bit length) come back byte for byte"""
    expect_echoes(raw(), TEXT, [random_text(rng, size) for size in (0, 1, 17, 125)])


def check_text_with_16_bit_lengths(raw, rng):
    """Text frames of 126 to 65535 bytes (16-bit length) come back byte for byte"""
    expect_echoes(raw(), TEXT, [random_text(rng, size) for size in (126, 127, 1000, 65535)])


def check_text_with_64_bit_lengths(raw, rng):
    """Text frames of 65536 bytes and more (64-bit length) come back byte for byte"""
    expect_echoes(raw(), TEXT, [random_text(rng, size) for size in (65536, 100_000)])


def check_binary_frames(raw, rng):
    """Binary frames of all three length encodings come back as binary, byte for byte"""
    expect_echoes(raw(), BINARY, [rng.randbytes(size) for size in (0, 100, 300, 70_000)])


def check_frames_sent_in_one_write(raw, rng):
    """Ten frames sent in a single write are echoed in order"""
    client = raw()
    payloads = [random_text(rng, rng.choice((3, 40, 200, 2000))) for _ in range(10)]
    client.send(b"".join(client.frame(TEXT, payload) for payload in payloads), note="10 text frames in one write")
    for number, payload in enumerate(payloads, start=1):
        client.expect_frame(
            TEXT,
            payload,
            f"the echo of message {number} of 10",
            hint="one read can hold several frames: keep a buffer and process every complete frame in it",
        )


def check_frames_split_at_random_bytes(raw, rng):
    """Frames cut at 17 byte offsets (inside headers, masking keys and payloads) are reassembled"""
    client = raw()
    payloads = [random_text(rng, 5), rng.randbytes(300), random_text(rng, 70_000)]
    kinds = [TEXT, BINARY, TEXT]
    stream = b"".join(client.frame(kind, payload) for kind, payload in zip(kinds, payloads, strict=True))
    # Frame 1 is bytes 0-10 (header and key 0-5); frame 2 starts at 11 (header, 16-bit length and key 11-18).
    header_cuts = {1, 3, 5, 12, 13, 15, 17}
    cuts = sorted(header_cuts | set(rng.sample(range(19, len(stream)), 10)))
    pieces = [stream[start:end] for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    for number, piece in enumerate(pieces, start=1):
        client.send(piece, note=f"piece {number} of {len(pieces)}")
        time.sleep(0.001)  # so that each piece leaves as its own segment instead of being coalesced
    for kind, payload in zip(kinds, payloads, strict=True):
        client.expect_frame(
            kind,
            payload,
            f"the echo of a {len(payload)}-byte message that arrived in pieces",
            hint="a frame may arrive split at any byte, even inside its header: read until you have all of it",
        )


def check_frame_in_the_same_write_as_the_upgrade(raw, rng):
    """A frame sent in the same write as the upgrade request is not lost"""
    client = raw(path=None)
    key = new_key(rng)
    request = build_request("/echo", key, client.port)
    client.send(request + client.frame(TEXT, b"early bird"), note="the upgrade request and a text frame")
    expect_switching(client.read_response("response to the upgrade request"), key, "/echo")
    client.expect_frame(
        TEXT,
        b"early bird",
        "the echo of the frame sent right behind the upgrade request",
        hint="bytes after the request's blank line already belong to the WebSocket: keep them for the frame reader",
    )


def check_websockets_library_round_trip(lib, rng):
    """Text and binary messages from the websockets library come back intact"""
    client = lib("websockets client")
    messages = [random_text(rng, 50).decode(), rng.randbytes(200), random_text(rng, 80_000).decode(), "done"]
    for message in messages:
        client.send(message)
        client.expect_message(message, f"the echo of a message of {len(message)} {_unit(message)}")


def _unit(message: object) -> str:
    return "characters" if isinstance(message, str) else "bytes"
