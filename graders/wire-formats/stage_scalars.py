"""Stage 2: every scalar type of Scalars, alone and together, in exactly the official bytes."""

from collections.abc import Iterable

from labkit.checks import log
from proto_codec import Codec
from proto_data import EDGES, FIXED_FIELDS, VARINT_FIELDS, ZIGZAG_FIELDS, random_messages


def expect_each_value_alone(codec: Codec, fields: Iterable[str]) -> None:
    """Every edge value of each field, alone in a message: encoded like the official library, and decoded back."""
    for field in fields:
        for value in EDGES[field]:
            message = {field: value}
            codec.expect_encoding("Scalars", message)
            what = f"the official encoding of {message}"
            codec.expect_decoding("Scalars", codec.oracle.encode("Scalars", message), what=what)


def check_varint_types(codec):
    """int32, int64, uint32, uint64, bool and enum are varints; negative ones take 10 bytes"""
    expect_each_value_alone(codec, VARINT_FIELDS)


def check_zigzag_types(codec):
    """sint32 and sint64 are zigzag-encoded varints"""
    expect_each_value_alone(codec, ZIGZAG_FIELDS)


def check_fixed_width_types(codec):
    """fixed32, fixed64, sfixed32, sfixed64, float and double are little-endian and fixed-width"""
    expect_each_value_alone(codec, FIXED_FIELDS)


def check_default_values_are_not_written(codec):
    """Fields holding their default value are left out of the bytes"""
    every_default = {field: EDGES[field][0] * 0 for field in EDGES}
    every_default["bool_value"] = False
    codec.expect_encoding("Scalars", every_default)
    codec.expect_encoding("Scalars", {})
    codec.expect_encoding("Scalars", {**every_default, "sint64_value": -3, "double_value": 0.5})


def check_missing_fields_decode_as_defaults(codec):
    """decode returns every field; the ones not in the bytes hold their default"""
    codec.expect_decoding("Scalars", b"", what="empty: a message whose fields all hold their default")
    message = {"uint32_value": 7, "float_value": 1.5}
    codec.expect_decoding(
        "Scalars", codec.oracle.encode("Scalars", message), what=f"the official encoding of {message}"
    )


def check_random_messages(codec, rng):
    """Random Scalars messages encode to the official bytes and decode back"""
    messages = random_messages(codec.oracle.descriptor("Scalars"), 40, rng)
    codec.expect_round_trips("Scalars", messages)
    log("every random message matched")
