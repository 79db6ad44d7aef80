"""Stage 3: strings, bytes and nested messages: a tag, a length in bytes, then the bytes."""

from proto_data import random_messages

ADDRESS = {"street": "Hauptstraße 5", "city": "München", "postal_code": "80331", "country_code": "DE"}


def check_strings_are_utf8_with_a_byte_length(codec):
    """A string's length prefix counts its UTF-8 bytes"""
    for label in ["box", "", "héllo wörld", "東京 → São Paulo", "🎉 party", "x" * 200]:
        codec.expect_encoding("Parcel", {"label": label})
        data = codec.oracle.encode("Parcel", {"label": label})
        codec.expect_decoding("Parcel", data, what=f"the official encoding of {{'label': {label!r}}}")


def check_bytes_are_written_raw(codec):
    """Bytes fields hold any bytes; lengths from 128 take a two-byte varint"""
    for payload in [b"\x00", b"\x00\xff\x80\x7f", bytes(range(256)), b"\x80" * 300]:
        message = {"payload": payload}
        codec.expect_encoding("Parcel", message)
        codec.expect_decoding(
            "Parcel", codec.oracle.encode("Parcel", message), what="the official encoding of a payload"
        )


def check_nested_messages(codec):
    """Nested messages are length-delimited; an empty one is written, an absent one is not"""
    messages = [
        {"sender": ADDRESS},
        {"label": "outer", "recipient": {"city": "東京"}, "sender": None},
        {"sender": {}},
        {"inner": {"inner": {"label": "innermost", "sender": ADDRESS}}},
        {"inner": {}, "recipient": {"street": "a" * 150}},
    ]
    for message in messages:
        codec.expect_encoding("Parcel", message)
        codec.expect_decoding(
            "Parcel", codec.oracle.encode("Parcel", message), what=f"the official encoding of {message}"
        )


def check_field_numbers_from_16_take_two_byte_tags(codec):
    """Field 16 has a two-byte tag"""
    for message in [{"weight_grams": 1}, {"weight_grams": 1500, "label": "heavy"}]:
        codec.expect_encoding("Parcel", message)
        codec.expect_decoding(
            "Parcel", codec.oracle.encode("Parcel", message), what=f"the official encoding of {message}"
        )


def check_random_messages(codec, rng):
    """Random Parcel messages encode to the official bytes and decode back"""
    codec.expect_round_trips("Parcel", random_messages(codec.oracle.descriptor("Parcel"), 40, rng))
