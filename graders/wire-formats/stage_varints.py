"""Stage 1: varints, the integer encoding everything else is built on (and a codec written by hand)."""

import ast
from collections.abc import Iterator
from pathlib import Path

from labkit.checks import fail
from labkit.driver import LearnerRaised
from labkit.render import hex_bytes
from proto_codec import VALUE_ERRORS, Codec
from proto_oracle import Oracle
from proto_walk import show_bytes

# value -> its varint, as the README's table shows them
KNOWN = {
    0: "00",
    1: "01",
    127: "7f",
    128: "80 01",
    150: "96 01",
    300: "ac 02",
    16383: "ff 7f",
    16384: "80 80 01",
}
LARGE = {
    2**32 - 1: "ff ff ff ff 0f",
    2**35: "80 80 80 80 80 01",
    2**63 - 1: "ff ff ff ff ff ff ff ff 7f",
    2**63: "80 80 80 80 80 80 80 80 80 01",
    2**64 - 1: "ff ff ff ff ff ff ff ff ff 01",
}
HINT = "7 bits per byte, least significant group first; the high bit (0x80) is set on every byte except the last"


def expect_varint(codec: Codec, value: int, expected: bytes) -> None:
    got = codec.call("encode_varint", value)
    if not isinstance(got, bytes):
        fail(f"encode_varint({value}) returned a {type(got).__name__}, not bytes")
    if got != expected:
        fail(
            f"encode_varint({value}) returned {hex_bytes(got)}; expected {hex_bytes(expected)}",
            expected=hex_bytes(expected),
            got=hex_bytes(got),
            hint=HINT,
        )


def expect_decoded(codec: Codec, data: bytes, offset: int, expected: list[int]) -> None:
    got = codec.call("decode_varint", data, offset)
    call = f"decode_varint({show_bytes(data, 24)}, {offset})"
    if got != expected:
        fail(f"{call} returned {got!r}; expected {expected!r} (value, offset after the varint)", hint=HINT)


def official_varint(oracle: Oracle, value: int) -> bytes:
    """The varint of ``value`` as the official library writes it: a uint64 field's record without its tag."""
    return oracle.encode("Scalars", {"uint64_value": value})[1:] if value else b"\x00"


def check_small_values(codec):
    """Values up to 16384 encode to the bytes in the README"""
    for value, text in KNOWN.items():
        expect_varint(codec, value, bytes.fromhex(text))


def check_values_up_to_64_bits(codec):
    """Values up to 2**64 - 1 take up to 10 bytes"""
    for value, text in LARGE.items():
        expect_varint(codec, value, bytes.fromhex(text))


def check_decoding_from_an_offset(codec, rng):
    """decode_varint reads one varint at an offset and says where it ends"""
    values = [rng.getrandbits(rng.choice([3, 7, 8, 14, 15, 28, 35, 63, 64])) for _ in range(12)] + [0, 2**64 - 1]
    buffer = b"\xff\xff" + b"".join(official_varint(codec.oracle, value) for value in values)
    offset = 2
    for value in values:
        end = offset + len(official_varint(codec.oracle, value))
        expect_decoded(codec, buffer, offset, [value, end])
        offset = end


def check_random_values_match_the_official_library(codec, rng):
    """Random values of every length encode like the official library and decode back"""
    values = [rng.getrandbits(rng.randint(1, 64)) for _ in range(150)]
    for value in values:
        expected = official_varint(codec.oracle, value)
        got = codec.call("encode_varint", value, quiet=True)
        if got != expected:
            expect_varint(codec, value, expected)
        if codec.call("decode_varint", expected, 0, quiet=True) != [value, len(expected)]:
            expect_decoded(codec, expected, 0, [value, len(expected)])


def check_out_of_range_and_malformed_varints_raise(codec):
    """Negative or 64-bit overflowing values, and truncated or overlong varints, raise ValueError"""
    cases = [
        ("encode_varint", (-1,), "a negative value"),
        ("encode_varint", (2**64,), "2**64, which needs 65 bits"),
        ("decode_varint", (b"",), "empty input"),
        ("decode_varint", (b"\x80",), "a varint whose only byte has the continuation bit set"),
        ("decode_varint", (b"\x01\xff\xff", 1), "a varint cut off after two bytes"),
        ("decode_varint", (b"\xff" * 10 + b"\x01",), "an 11-byte varint (the longest is 10)"),
    ]
    for function, args, what in cases:
        call = f"{function}({', '.join(show_bytes(a) if isinstance(a, bytes) else repr(a) for a in args)})"
        try:
            got = codec.call(function, *args)
        except LearnerRaised as raised:
            if raised.type_name not in VALUE_ERRORS:
                fail(
                    f"{call} raised {raised.type_name}: {raised.text}; for {what} the spec asks for ValueError",
                    got=raised.got,
                    hint=raised.hint
                    if raised.stub
                    else "check the input yourself and raise ValueError; IndexError is not ValueError",
                )
            continue
        fail(
            f"{call} returned {got!r}; for {what} it must raise ValueError",
            hint="encode_varint accepts 0 <= value < 2**64; "
            "decode_varint reads at most 10 bytes and never past the end",
        )


FORBIDDEN = ("google.protobuf", "grpc_tools", "grpc", "betterproto", "pure_protobuf")


def local_modules(impl_dir: Path, name: str, seen: set[str]) -> Iterator[tuple[str, str]]:
    """The learner's own modules that ``name`` imports, transitively, starting with ``name`` itself."""
    path = impl_dir / f"{name}.py"
    if name in seen or not path.is_file():
        return
    seen.add(name)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except SyntaxError:
        return  # the import fails in the driver, with a better message than ours
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported = [node.module]
        else:
            continue
        for module in imported:
            yield path.name, module
            yield from local_modules(impl_dir, module.split(".")[0], seen)


def check_the_codec_is_written_by_hand(impl_dir, lab):
    """codec.py and its own modules import no protobuf library"""
    for file, module in local_modules(impl_dir, lab.run.module, set()):
        if any(module == banned or module.startswith(banned + ".") for banned in FORBIDDEN):
            fail(
                f"{file} imports {module}: this lab is about writing the wire format by hand",
                hint="use the standard library only (struct, json, base64); experiment with the official library "
                "in a scratch script outside your codec",
            )
