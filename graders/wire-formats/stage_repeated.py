"""Stage 4: repeated fields: numeric ones packed, strings, bytes and messages one record per element."""

from proto_data import EDGES, random_messages

NUMERIC = [
    "int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool", "enum",
    "fixed32", "fixed64", "sfixed32", "sfixed64", "float", "double",
]  # fmt: skip


def check_numeric_lists_are_packed(codec):
    """A list of numbers is one packed record"""
    for kind in NUMERIC:
        values = EDGES[f"{kind}_value"]
        for message in [{f"{kind}_values": values}, {f"{kind}_values": values[:1]}]:
            codec.expect_encoding("Lists", message)
            codec.expect_decoding(
                "Lists", codec.oracle.encode("Lists", message), what=f"the official encoding of {message}"
            )


def check_zeros_and_empty_elements_are_kept(codec):
    """Zeros, empty strings and empty messages inside a list are kept; an empty list is not written"""
    messages = [
        {"int32_values": [0, 0, 5, 0], "bool_values": [False, True, False], "double_values": [0.0, 1.0]},
        {"strings": ["", "a", ""], "blobs": [b"", b"\x00"], "addresses": [{}, {"city": "Paris"}, {}]},
        {"int64_values": [], "strings": [], "addresses": [], "sint32_values": [0]},
    ]
    for message in messages:
        codec.expect_encoding("Lists", message)
        codec.expect_decoding(
            "Lists", codec.oracle.encode("Lists", message), what=f"the official encoding of {message}"
        )


def check_strings_bytes_and_messages_repeat_as_records(codec):
    """Strings, bytes and messages are one record per element, in order"""
    message = {
        "strings": ["first", "second", "dritte", "四"],
        "blobs": [b"\x01\x02", b"\xff" * 130],
        "addresses": [{"city": "London"}, {"street": "Rua Augusta 1200", "city": "São Paulo", "country_code": "BR"}],
    }
    codec.expect_encoding("Lists", message)
    codec.expect_decoding("Lists", codec.oracle.encode("Lists", message), what="the official encoding of three lists")


def check_long_lists(codec, rng):
    """A packed list longer than 127 bytes has a two-byte length"""
    message = {
        "uint64_values": [rng.getrandbits(64) for _ in range(40)],
        "sint32_values": [rng.randint(-1000, 1000) for _ in range(100)],
        "fixed32_values": [rng.getrandbits(32) for _ in range(50)],
    }
    codec.expect_encoding("Lists", message)
    codec.expect_decoding("Lists", codec.oracle.encode("Lists", message), what="the official encoding of long lists")


def check_random_messages(codec, rng):
    """Random Lists messages encode to the official bytes and decode back"""
    codec.expect_round_trips("Lists", random_messages(codec.oracle.descriptor("Lists"), 40, rng))
