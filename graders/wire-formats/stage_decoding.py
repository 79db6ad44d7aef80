"""Stage 5: decoding whatever a valid writer sends: unknown fields, unpacked lists, any order, repeats, and
rejecting malformed bytes with ValueError."""

from proto_data import order, random_messages
from proto_oracle import DecodeError
from proto_walk import walk

FUTURE_VALUES = {
    "future_varint": 2**40 + 1,
    "future_negative": -7,
    "future_i64": 2**64 - 1,
    "future_text": "from a newer writer ✓",
    "future_i32": 0xDEADBEEF,
    "future_packed": [-1, 2**40, 0, 5],
    "future_message": {"city": "Zürich", "country_code": "CH"},
    "future_last": b"\x00\x01\x02",
}
SKIP_HINT = (
    "skip a record whose field number you do not know by its wire type: a varint (VARINT), 8 bytes (I64), "
    "4 bytes (I32), or a varint length and that many bytes (LEN); field numbers go up to 536870911"
)
SEEN_TWICE_HINT = (
    "a singular scalar seen twice takes the last value, a list appends, and a nested message seen twice is merged: "
    "decode the concatenation of its records' bytes, so the later fields win and the earlier ones stay"
)
WIRE = {
    "future_varint": "a VARINT",
    "future_negative": "a 10-byte VARINT",
    "future_i64": "an I64",
    "future_text": "a LEN string",
    "future_i32": "an I32",
    "future_packed": "a LEN packed list",
    "future_message": "a LEN message",
    "future_last": "a LEN field with the largest field number, 536870911 (a 5-byte tag)",
}


def check_unknown_fields_of_every_wire_type_are_skipped(codec, rng):
    """Fields the schema does not know are skipped, whatever their wire type"""
    base = order(rng, 1)
    for name, value in FUTURE_VALUES.items():
        data = codec.oracle.future.encode("Order", {**base, name: value})
        codec.expect_decoding("Order", data, what=f"an Order with {WIRE[name]} field it does not know", hint=SKIP_HINT)
    inside = {**base, "shipping_address": {**base["shipping_address"], **FUTURE_VALUES}}
    data = codec.oracle.future.encode("Order", inside)
    what = "an Order whose shipping_address has fields it does not know"
    codec.expect_decoding("Order", data, what=what, hint=SKIP_HINT)


def check_fields_in_any_order(codec, rng):
    """Records may come in any order, unknown ones between known ones"""
    for number in range(3):
        message = {**order(rng, number), "future_text": "unknown", "future_i64": 5, "future_packed": [1, -1]}
        data = codec.oracle.future.encode("Order", message)
        pieces = [data[record.start : record.end] for record in walk(None, data)]
        rng.shuffle(pieces)
        codec.expect_decoding(
            "Order",
            b"".join(pieces),
            what="the records of an official Order, shuffled",
            hint="records may come in any order, unknown ones between known ones: read until the end of the data",
        )


def check_unpacked_repeated_fields_are_accepted(codec, rng):
    """Repeated numbers arrive packed, unpacked, or both"""
    lists = {
        "int32_values": [1, -1, 300],
        "sint64_values": [-(2**40), 7],
        "bool_values": [True, False],
        "fixed32_values": [1, 2**32 - 1],
        "double_values": [0.5, -1e10],
        "enum_values": [2, 0, 4],
    }
    codec.expect_decoding("Lists", codec.oracle.unpacked.encode("Lists", lists), what="Lists written unpacked")
    codec.expect_decoding(
        "Order", codec.oracle.unpacked.encode("Order", order(rng, 2)), what="an Order written unpacked"
    )
    mixed = (
        codec.oracle.encode("Lists", {"int32_values": [1, 2]})
        + codec.oracle.unpacked.encode("Lists", {"int32_values": [3, -4]})
        + codec.oracle.encode("Lists", {"int32_values": [5]})
    )
    codec.expect_decoding("Lists", mixed, what="int32_values as a packed record, two single ones, another packed one")


def check_a_field_seen_twice(codec):
    """The last value of a repeated scalar wins, lists are appended, nested messages merged"""
    scalars = codec.oracle.encode("Scalars", {"int32_value": 1, "uint64_value": 9, "double_value": 2.5})
    scalars += codec.oracle.encode("Scalars", {"int32_value": -5, "double_value": 0.25})
    codec.expect_decoding("Scalars", scalars, what="two Scalars encodings one after the other", hint=SEEN_TWICE_HINT)
    orders = codec.oracle.encode(
        "Order", {"status": 1, "tags": ["a"], "shipping_address": {"street": "Hauptstraße 5", "city": "München"}}
    )
    orders += codec.oracle.encode(
        "Order", {"status": 3, "tags": ["b"], "shipping_address": {"city": "Berlin", "postal_code": "10115"}}
    )
    what = "two Order encodings one after the other, each with a shipping_address"
    codec.expect_decoding("Order", orders, what=what, hint=SEEN_TWICE_HINT)


def check_malformed_input_raises_value_error(codec, rng):
    """Truncated or malformed bytes raise ValueError; a cut between records is a shorter valid message"""
    cases = [
        ("Scalars", b"\x08", "a tag with no value after it"),
        ("Scalars", b"\x08\xff\xff", "a varint cut off"),
        ("Scalars", b"\x51\x00\x00\x00", "a fixed64 value of 3 bytes"),
        ("Scalars", b"\x6d\x00\x00", "a float value of 2 bytes"),
        ("Parcel", b"\x0a\x05ab", "a string whose length (5) runs past the end"),
        ("Parcel", b"\x1a\x02\x0a\x05", "a nested Address whose own string runs past its end"),
        ("Scalars", b"\x0e\x01", "wire type 6, which does not exist"),
        ("Scalars", b"\x0f\x01", "wire type 7, which does not exist"),
        ("Scalars", b"\x00\x01", "field number 0, which is not allowed"),
        ("Scalars", b"\x02\x00", "field number 0 with wire type LEN"),
        ("Scalars", b"\x05\x00\x00\x00\x00", "field number 0 with wire type I32"),
        ("Lists", b"\x4a\x06" + b"\x01" * 6, "packed fixed32_values of 6 bytes: the second value runs past the end"),
        ("Lists", b"\x0a\x02\x01\x80", "packed int32_values whose last varint runs past the end of the record"),
        ("Address", b"\x0a\x02\xc3\x28", "a string that is not valid UTF-8"),
        ("Parcel", b"\x1a\x04\x0a\x02\xc3\x28", "a nested Address whose street is not valid UTF-8"),
        ("Lists", b"\x7a\x01a\x7a\x02\xc3\x28", "a list of strings whose second one is not valid UTF-8"),
    ]
    for name, data, what in cases:
        codec.expect_rejected(name, data, what)
    data = codec.oracle.encode("Order", order(rng, 3))
    for cut in sorted(rng.sample(range(1, len(data)), 20)):
        piece = data[:cut]
        what = f"the first {cut} of the {len(data)} bytes of an official Order"
        try:
            codec.oracle.decode("Order", piece)
        except DecodeError:  # the official library rejects it, so must the learner
            codec.expect_rejected("Order", piece, f"{what}, cut inside a record")
        else:
            codec.expect_decoding("Order", piece, what=f"{what}, cut between records: a valid shorter Order")


def check_random_orders_with_unknown_fields(codec, rng):
    """Random Orders from a newer writer decode like the official library decodes them"""
    messages = random_messages(codec.oracle.future.descriptor("Order"), 30, rng)
    codec.expect_reads("Order", messages, "Order", codec.oracle.future, hint=SKIP_HINT)
