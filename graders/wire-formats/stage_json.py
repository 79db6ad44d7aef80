"""Stage 7: the proto3 JSON mapping, compared with the official library's json_format."""

import json

from proto_data import EDGES, order, random_messages


def check_every_scalar_type(codec):
    """Integers, 64-bit integers as strings, floats, bools and enums by name"""
    for field, values in EDGES.items():
        for value in values:
            codec.expect_to_json("Scalars", {field: value})
    codec.expect_to_json("Scalars", {field: values[-1] for field, values in EDGES.items()})


TIERS = ("TIER_UNSPECIFIED", "BRONZE", "SILVER", "GOLD", "PLATINUM")


def check_names_defaults_and_unknown_enum_numbers(codec, rng):
    """Keys in lowerCamelCase, defaults left out, an unnamed enum number as a number"""
    codec.expect_to_json("Order", order(rng, 1))
    codec.expect_to_json(
        "Order", {"order_id": 0, "customer_email": "", "gift": False, "tags": [], "total": None, "note": "n"}
    )
    codec.expect_to_json("Scalars", {"enum_value": 9, "int32_value": 0, "double_value": 0.0})
    # Every named value of the other enums, by name: each version of the customer's tier has its own list.
    for tier in range(1, 5):
        codec.expect_to_json("CustomerV2", {"id": 1, "tier": tier})
        codec.expect_to_json("CustomerV1", {"id": 1, "tier": tier})


def check_bytes_nested_and_repeated_values(codec):
    """Bytes in base64, nested objects (empty ones too), and arrays"""
    codec.expect_to_json(
        "Parcel", {"payload": b"\x00\xff\xfe binary", "sender": {}, "inner": {"label": "in", "payload": b"\x01"}}
    )
    codec.expect_to_json("Parcel", {"payload": b"ab"})
    codec.expect_to_json(
        "Lists",
        {"int64_values": [1, -(2**63)], "uint32_values": [0, 7], "enum_values": [1, 0], "blobs": [b"", b"\xfb\xff"],
         "addresses": [{}, {"city": "東京"}], "bool_values": [True, False]},
    )  # fmt: skip


def check_from_json_reads_official_json_and_its_variants(codec, rng):
    """from_json reads the official output, proto names, numbers as strings and back, enum numbers and nulls"""
    for name, message in [("Order", order(rng, 2)), ("Scalars", {f: v[-1] for f, v in EDGES.items()})]:
        codec.expect_from_json(name, codec.oracle.to_json_text(name, message))
    variants = [
        ("Scalars", {"int32Value": "-5", "int64Value": 7, "uint64Value": "18446744073709551615", "enumValue": "PAID"}),
        ("Scalars", {"int32_value": 12, "sint64_value": "-9000000000", "bool_value": True, "enum_value": 3}),
        ("Scalars", {"floatValue": 1.5, "doubleValue": -2, "fixed64Value": "5", "sfixed32Value": -1}),
        ("Parcel", {"label": None, "sender": None, "weightGrams": None, "payload": "AP8="}),
        ("Parcel", {"inner": {"inner": {"label": "deep"}}, "recipient": {}}),
        ("Lists", {"sint32Values": [-1, "2"], "strings": ["a", ""], "addresses": [{"city": "Lyon"}, {}]}),
        ("Scalars", {"uint32Value": "4294967295", "fixed32Value": "7", "sint32Value": "-3", "sfixed64Value": -12}),
        ("Lists", {"enumValues": ["PAID", 2, 9], "blobs": ["AP8=", ""], "double_values": [1, -0.5]}),
        ("Order", {"order_id": "5", "shipping_address": {"country_code": "DE"}, "warehouse_ids": ["1", 2]}),
    ]
    for name, value in variants:
        codec.expect_from_json(name, json.dumps(value, ensure_ascii=False))
    # Every tier by name, the zero value's name too: each version of the enum has its own names.
    for name, tiers in (("CustomerV1", TIERS[:4]), ("CustomerV2", TIERS)):
        for tier in tiers:
            codec.expect_from_json(name, json.dumps({"id": "3", "tier": tier}))


def check_random_messages_agree_with_the_official_mapping(codec, rng):
    """Random messages: to_json gives the official JSON, from_json reads it back"""
    for name, count in [("Scalars", 20), ("Parcel", 10), ("Lists", 10), ("Order", 10)]:
        codec.expect_json_agrees(name, random_messages(codec.oracle.descriptor(name), count, rng))
