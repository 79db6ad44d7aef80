"""Stage 8: the same messages in both formats, measured by the learner and checked against the oracle."""

import json
from typing import Any

from labkit.checks import fail, log
from proto_codec import Codec
from proto_data import order, small_negatives, telemetry


def compact(
    value: object, *, separators: tuple[str, str] = (",", ":"), ensure_ascii: bool = False, indent: int | None = None
) -> str:
    return json.dumps(value, separators=separators, ensure_ascii=ensure_ascii, indent=indent)


def expect_sizes(codec: Codec, name: str, corpus: list[dict[str, Any]], label: str) -> dict[str, int]:
    oracle = codec.oracle
    objects = [oracle.json_object(name, message) for message in corpus]
    expected = {
        "protobuf_bytes": sum(len(oracle.encode(name, message)) for message in corpus),
        "json_bytes": sum(len(compact(value).encode()) for value in objects),
    }
    got = codec.call("measure", name, corpus, quiet=True)
    log(f"→ measure({name!r}, <{len(corpus)} {label}>)")
    log(f"← {got!r}")
    if not isinstance(got, dict) or set(got) != set(expected) or not all(type(v) is int for v in got.values()):
        fail(
            f"measure({name!r}, <{len(corpus)} {label}>) returned {got!r}",
            expected='{"protobuf_bytes": <int>, "json_bytes": <int>}',
            hint="return a dict with exactly these two keys, each an int",
        )
    if got["protobuf_bytes"] != expected["protobuf_bytes"]:
        fail(
            f"protobuf_bytes of {len(corpus)} {label} is {got['protobuf_bytes']}; the official encodings total "
            f"{expected['protobuf_bytes']} bytes",
            hint="protobuf_bytes is the sum of len(encode(message_type, message)) over the messages",
        )
    if got["json_bytes"] != expected["json_bytes"]:
        fail(
            f"json_bytes of {len(corpus)} {label} is {got['json_bytes']}; the official JSON, compact, totals "
            f"{expected['json_bytes']} UTF-8 bytes",
            hint=json_size_hint(objects, got["json_bytes"]),
        )
    ratio = expected["json_bytes"] / expected["protobuf_bytes"]
    log(f"{label}: protobuf {expected['protobuf_bytes']} bytes, JSON {expected['json_bytes']} bytes ({ratio:.2f}x)")
    return expected


def json_size_hint(objects: list[dict[str, Any]], got: int) -> str:
    """What a wrong total most likely counted instead."""
    measures = {
        "characters rather than UTF-8 bytes: len(text) counts é or 東 as one": lambda v: len(compact(v)),
        "JSON with \\u escapes (ensure_ascii=True); write non-ASCII characters as themselves": lambda v: len(
            compact(v, ensure_ascii=True)
        ),
        "JSON with spaces after , and : (json.dumps' default separators); use separators=(',', ':')": lambda v: len(
            compact(v, separators=(", ", ": ")).encode()
        ),
        "indented JSON; measure the compact form": lambda v: len(compact(v, indent=2).encode()),
    }
    for why, size in measures.items():
        if sum(size(value) for value in objects) == got:
            return f"your total matches {why}"
    return "json_bytes is the sum of len(json.dumps(obj, separators=(',', ':'), ensure_ascii=False).encode('utf-8'))"


def check_orders(codec, rng):
    """A corpus of orders: text-heavy, with non-ASCII addresses"""
    expect_sizes(codec, "Order", [order(rng, number) for number in range(150)], "orders")


def check_telemetry(codec, rng):
    """A corpus of sensor readings: numbers only"""
    expect_sizes(codec, "Lists", [telemetry(rng) for _ in range(40)], "telemetry batches")


def check_small_negative_numbers(codec, rng):
    """Small negative numbers as int32 and as sint32: where protobuf can lose to JSON"""
    as_int32 = [small_negatives(rng, "int32_values") for _ in range(60)]
    as_sint32 = [{"sint32_values": message["int32_values"]} for message in as_int32]
    int32 = expect_sizes(codec, "Lists", as_int32, "lists of small negative int32")
    sint32 = expect_sizes(codec, "Lists", as_sint32, "the same lists as sint32")
    log(
        f"the same numbers: {int32['protobuf_bytes']} bytes as int32, {sint32['protobuf_bytes']} as sint32, "
        f"{int32['json_bytes']} in JSON"
    )
