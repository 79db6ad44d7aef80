"""Stage 6: protocol violations fail the connection with the right Close status (1002, 1007, 1009)."""

from collections.abc import Callable, Sequence
from typing import Unpack

from rawclient import FrameOptions, RawWebSocket
from wsframes import BINARY, CLOSE, CONT, MAX_MESSAGE, OPCODE_NAMES, PING, PONG, TEXT, close_payload

PROTOCOL_HINT = "a frame that breaks RFC 6455 section 5 fails the connection: send Close 1002, then close TCP"
UTF8_HINT = (
    "decode every text message strictly as UTF-8 once it is complete; invalid bytes, overlong forms and "
    "surrogates fail the connection with 1007 (RFC 6455 section 8.1)"
)
SIZE_HINT = (
    "compare the announced length, plus what the message already holds, with MAX_MESSAGE as soon as the header "
    "has arrived: send Close 1009 without reading or allocating the payload (RFC 6455 section 10.4)"
)


FrameSpec = tuple[int, bytes, FrameOptions]


def spec(opcode: int, payload: bytes = b"", **options: Unpack[FrameOptions]) -> FrameSpec:
    """A frame to build on the connection that sends it (each frame gets that connection's fresh mask)."""
    return opcode, payload, options


def expect_violation(
    raw: Callable[..., RawWebSocket], frames: Sequence[FrameSpec], code: int, what: str, hint: str
) -> None:
    client = raw()
    client.send(b"".join(client.frame(opcode, payload, **options) for opcode, payload, options in frames), note=what)
    client.expect_close(code, what, hint=hint)


def expect_echo_still_works(raw: Callable[..., RawWebSocket], alive: Callable[[str], None], after: str) -> None:
    alive(after)
    client = raw("next client")
    client.send_frame(TEXT, b"unaffected")
    client.expect_frame(TEXT, b"unaffected", f"the echo for a new client {after}")


# The mask bit is 0x80 of the second byte alone: lengths of both parities, both short encodings, data and control.
UNMASKED: list[tuple[str, FrameSpec]] = [
    ("an unmasked text frame", spec(TEXT, b"not masked", masked=False)),
    ("an unmasked text frame of 5 bytes", spec(TEXT, b"hello", masked=False)),
    ("an unmasked empty Ping", spec(PING, masked=False)),
    ("an unmasked binary frame of 301 bytes (126 + 16-bit length)", spec(BINARY, b"u" * 301, masked=False)),
]


def check_unmasked_frame_gets_1002(raw, alive):
    """Unmasked client frames (odd and even lengths, 7- and 16-bit, data and control) get Close 1002"""
    for what, frame in UNMASKED:
        expect_violation(
            raw,
            [frame],
            1002,
            what,
            "clients must mask every frame (RFC 6455 section 5.1): the mask bit (0x80 of the second byte, "
            "whatever the length beside it) at 0 fails the connection with 1002",
        )
    expect_echo_still_works(raw, alive, "after an unmasked frame")


def check_reserved_bits_and_opcodes_get_1002(raw):
    """Frames with RSV1, RSV2 or RSV3 set, and frames with each reserved opcode (0x3-0x7, 0xB-0xF), get Close 1002"""
    for number, rsv in ((1, 0b100), (2, 0b010), (3, 0b001)):
        expect_violation(raw, [spec(TEXT, b"rsv", rsv=rsv)], 1002, f"a text frame with RSV{number} set", PROTOCOL_HINT)
    for opcode in (*range(0x3, 0x8), *range(0xB, 0x10)):
        expect_violation(raw, [spec(opcode, b"?")], 1002, f"a frame with opcode 0x{opcode:x}", PROTOCOL_HINT)


def check_broken_fragmentation_gets_1002(raw):
    """A continuation frame with nothing to continue, and a new message inside a fragmented one, get Close 1002"""
    expect_violation(raw, [spec(CONT, b"orphan")], 1002, "a continuation frame with no message", PROTOCOL_HINT)
    expect_violation(
        raw,
        [spec(TEXT, b"start", fin=False), spec(TEXT, b"another start")],
        1002,
        "a text frame inside an unfinished fragmented message",
        "while a fragmented message is open only continuation and control frames may come (RFC 6455 section 5.4)",
    )


def check_invalid_control_frames_get_1002(raw):
    """Pings, Pongs and Closes of 126 bytes or with FIN=0, a 1-byte Close and a Close with status 1005 get 1002"""
    control_hint = "control frames are final and carry at most 125 bytes (RFC 6455 section 5.5)"
    long_close = close_payload(1000) + b"r" * 124
    for opcode, payload in ((PING, b"p" * 126), (PONG, b"p" * 126), (CLOSE, long_close)):
        name = OPCODE_NAMES[opcode]
        expect_violation(raw, [spec(opcode, payload)], 1002, f"a {name} of 126 bytes", control_hint)
    for opcode, payload in ((PING, b"frag"), (PONG, b"frag"), (CLOSE, close_payload(1000))):
        name = OPCODE_NAMES[opcode]
        expect_violation(raw, [spec(opcode, payload, fin=False)], 1002, f"a {name} with FIN=0", control_hint)
    expect_violation(
        raw,
        [spec(CLOSE, b"\x03")],
        1002,
        "a Close with a 1-byte payload",
        "a Close payload is empty or starts with a 2-byte status code (RFC 6455 section 5.5.1)",
    )
    expect_violation(
        raw,
        [spec(CLOSE, close_payload(1005))],
        1002,
        "a Close with status 1005",
        "1005, 1006 and 1015 are never sent in a Close frame; valid: 1000-1003, 1007-1014, 3000-4999 (RFC 6455 7.4)",
    )


def check_invalid_utf8_gets_1007(raw, alive):
    """Text that is not UTF-8 (a stray byte, an overlong form, a surrogate, a truncated character) gets 1007"""
    cases = [
        (b"caf\xff", "a text frame with the byte 0xFF"),
        (b"\xc0\xaf", "a text frame with the overlong encoding C0 AF"),
        (b"\xed\xa0\x80", "a text frame with the surrogate ED A0 80"),
    ]
    for payload, what in cases:
        expect_violation(raw, [spec(TEXT, payload)], 1007, what, UTF8_HINT)
    expect_violation(
        raw,
        [spec(TEXT, b"ends with half a euro \xe2", fin=False), spec(CONT, b"\x82")],
        1007,
        "a fragmented text message that ends in the middle of a character",
        UTF8_HINT,
    )
    expect_echo_still_works(raw, alive, "after invalid UTF-8")


def check_invalid_close_status_codes_get_1002(raw):
    """Close status codes outside 1000-1003, 1007-1014 and 3000-4999 get Close 1002, on both sides of each range"""
    for code in (0, 999, 1004, 1006, 1015, 1016, 2000, 2999, 5000, 65535):
        expect_violation(
            raw,
            [spec(CLOSE, close_payload(code))],
            1002,
            f"a Close with status {code}",
            "a Close status must be one of 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 section 7.4)",
        )


def check_close_reason_that_is_not_utf8_gets_1007(raw):
    """A Close whose reason is not UTF-8, from its first byte to its last, gets Close 1007"""
    reasons = (
        (b"bye \xff", "the byte 0xFF at its end"),
        (b"\xffbye", "the byte 0xFF at its start"),
        (b"\x80", "nothing but a continuation byte"),
        (b"\xed\xa0\x80", "a surrogate"),
    )
    for reason, what in reasons:
        expect_violation(
            raw,
            [spec(CLOSE, close_payload(1000) + reason)],
            1007,
            f"a Close whose reason holds {what}",
            "the reason of a Close is UTF-8 text; invalid text fails the connection with 1007 (RFC 6455 section 5.5.1)",
        )


def check_64_bit_length_with_its_top_bit_set_gets_1002(raw):
    """A 64-bit length with its most significant bit set gets Close 1002 (not 1009: the length is malformed)"""
    for announce in ((1 << 63) | 5, 1 << 63, (1 << 64) - 1):
        expect_violation(
            raw,
            [spec(BINARY, b"", announce=announce)],
            1002,
            f"a frame header whose 64-bit length has its top bit set (0x{announce:016x})",
            "the most significant bit of a 64-bit length must be 0 (RFC 6455 section 5.2): that is a protocol error",
        )


def check_nothing_is_sent_or_read_after_failing(raw):
    """After failing a connection the server sends nothing more: a message behind the violation is not echoed"""
    expect_violation(
        raw,
        [spec(TEXT, b"caf\xff"), spec(TEXT, b"after the violation")],
        1007,
        "invalid UTF-8 followed by a valid text frame in the same write",
        "after its Close frame the server sends nothing and stops reading data frames (RFC 6455 section 7.1.7)",
    )


def check_oversize_header_gets_1009_at_once(raw, alive):
    """Frame headers announcing MAX_MESSAGE + 1 bytes, up to the largest valid 64-bit length, get Close 1009 at once"""
    # 2**63 - 1 has every bit but the top one set: too big (1009), yet well-formed (not 1002).
    for announce in (MAX_MESSAGE + 1, 1 << 32, (1 << 63) - 1):
        header = spec(BINARY, b"", announce=announce)
        expect_violation(raw, [header], 1009, f"a frame header announcing {announce} bytes (no payload)", SIZE_HINT)
    expect_echo_still_works(raw, alive, "after an oversize frame")


def check_oversize_fragmented_message_gets_1009(raw, rng):
    """Fragments adding up to MAX_MESSAGE + 1 bytes get Close 1009"""
    first = spec(BINARY, rng.randbytes(MAX_MESSAGE - 10), fin=False)
    expect_violation(
        raw,
        [first, spec(CONT, rng.randbytes(11))],
        1009,
        f"two fragments of {MAX_MESSAGE - 10} and 11 bytes",
        SIZE_HINT,
    )


def check_message_of_exactly_max_size_is_accepted(raw, rng):
    """A message of exactly MAX_MESSAGE bytes is accepted and echoed"""
    client = raw()
    payload = rng.randbytes(MAX_MESSAGE)
    client.send_frame(BINARY, payload)
    client.expect_frame(
        BINARY,
        payload,
        f"the echo of a {MAX_MESSAGE}-byte message",
        hint="MAX_MESSAGE itself is allowed: only larger messages get 1009",
    )
