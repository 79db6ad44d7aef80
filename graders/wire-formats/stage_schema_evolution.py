"""Stage 6: schema evolution: an old service reads a newer writer's bytes, a new one reads old bytes."""

from proto_data import random_messages

ADA_V2 = {
    "id": 42,
    "name": "Ada Lovelace",
    "loyalty_points": 1200,
    "tier": 3,
    "emails": ["ada@example.com", "countess@example.org"],
    "address": {"street": "12 St James's Square", "city": "London", "country_code": "GB"},
    "marketing_opt_in": True,
    "updated_at_ms": 1_760_000_000_123,
    "region_id": 44,
    "recent_ratings": [5, -2, 4],
    "balance": -12.5,
}
GRACE_V1 = {"id": 7, "name": "Grace Hopper", "email": "grace@example.com", "loyalty_points": 10, "tier": 1}


# (Scalars field, its tag byte, a varint value wider than the field, a writer that could have sent it)
WIDER_WRITERS = [
    ("int32_value", 0x08, 2**40 + 5, "an int64"),
    ("uint32_value", 0x18, 2**40 + 5, "a uint64"),
    ("sint32_value", 0x28, 2**33 + 3, "a sint64"),
    ("bool_value", 0x38, 2, "an int32 2"),
    ("bool_value", 0x38, 2**40, "an int64 2**40"),
    ("enum_value", 0x40, 2**40 + 2, "an int64"),
]
NARROW_HINT = (
    "convert a varint's 64 bits as C++ casts them: int32 and enums keep the low 32 bits as signed, uint32 the low "
    "32 bits, sint32 the low 32 bits then un-zigzags; bool is true for any non-zero value"
)


def check_an_old_reader_skips_what_it_does_not_know(codec):
    """A CustomerV2 read as CustomerV1 keeps the fields version 1 knows"""
    data = codec.oracle.encode("CustomerV2", ADA_V2)
    codec.expect_decoding("CustomerV1", data, what=f"the official encoding of this CustomerV2: {ADA_V2}")


def check_a_new_reader_sees_defaults_for_what_an_old_writer_never_wrote(codec):
    """A CustomerV1 read as CustomerV2 has defaults for the new fields, and skips the removed email"""
    data = codec.oracle.encode("CustomerV1", GRACE_V1)
    codec.expect_decoding("CustomerV2", data, what=f"the official encoding of this CustomerV1: {GRACE_V1}")


def check_a_widened_integer_keeps_its_value(codec):
    """int32 loyalty_points became int64: negative values survive, large ones are cut to 32 bits by old readers;
    every narrower varint type keeps the bits it keeps"""
    for points in [-250, -(2**31)]:
        old = {"id": 1, "loyalty_points": points}
        data = codec.oracle.encode("CustomerV1", old)
        codec.expect_decoding("CustomerV2", data, what=f"the official encoding of this CustomerV1: {old}")
        # Your CustomerV1 bytes must be the official ones, which a CustomerV2 reader reads as the same number.
        codec.expect_encoding("CustomerV1", old)
    for points in [2**40 + 5, -(2**33) - 7, 2**31]:
        new = {"id": 2, "loyalty_points": points}
        data = codec.oracle.encode("CustomerV2", new)
        codec.expect_decoding("CustomerV1", data, what=f"the official encoding of this CustomerV2: {new}")
    # The same rule for every narrower varint type: a reader keeps the bits its own type keeps.
    for name, key, value, writer in WIDER_WRITERS:
        data = bytes([key]) + codec.oracle.encode("Scalars", {"uint64_value": value})[1:]  # the varint alone
        what = f"Scalars.{name} holding the varint {value} (as {writer} would write it)"
        codec.expect_decoding("Scalars", data, what=what, hint=NARROW_HINT)


def check_an_enum_value_added_later_survives_an_old_service(codec):
    """PLATINUM (4), unknown to CustomerV1, is kept as the number 4 and written back as 4"""
    data = codec.oracle.encode("CustomerV2", {**ADA_V2, "tier": 4})
    codec.expect_decoding("CustomerV1", data, what="the official encoding of a CustomerV2 with tier PLATINUM (4)")
    # What your decode returned (the check above made sure), written back by the old service:
    codec.expect_encoding("CustomerV1", codec.oracle.decode("CustomerV1", data))


def check_random_customers_both_ways(codec, rng):
    """Random CustomerV2 read as CustomerV1, and random CustomerV1 read as CustomerV2"""
    codec.expect_reads(
        "CustomerV1", random_messages(codec.oracle.descriptor("CustomerV2"), 20, rng), "CustomerV2", codec.oracle
    )
    codec.expect_reads(
        "CustomerV2", random_messages(codec.oracle.descriptor("CustomerV1"), 20, rng), "CustomerV1", codec.oracle
    )


def check_each_version_reads_and_writes_its_own_fields(codec, rng):
    """CustomerV1 and CustomerV2, every field set, encode to the official bytes and decode from them"""
    for name, known in (("CustomerV1", GRACE_V1), ("CustomerV2", ADA_V2)):
        messages = [known, *random_messages(codec.oracle.descriptor(name), 20, rng)]
        codec.expect_round_trips(name, messages)
