"""Messages to send: edge values per scalar type, Hypothesis strategies built from the schema, and corpora.

Random messages come from Hypothesis strategies seeded from the check's ``rng``, so ``--seed`` replays them.
Only the generate phase runs: the checks shrink a failing message themselves, field by field, which keeps the
number of calls to the learner's code bounded.
"""

from __future__ import annotations

import random
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

FD = FieldDescriptor
# Characters of every UTF-8 length (1 to 4 bytes), controls, a combining mark, a BOM and JSON's special cases.
ALPHABET = 'aZ09 _-"\\/\x00\n\té ü ß Ω 東京 🎉\u0301\u2028\ufeff'
I32, I64, U32, U64 = (-(2**31), 2**31 - 1), (-(2**63), 2**63 - 1), (0, 2**32 - 1), (0, 2**64 - 1)
INTEGER_RANGES = {
    FD.TYPE_INT32: I32, FD.TYPE_SINT32: I32, FD.TYPE_SFIXED32: I32,
    FD.TYPE_INT64: I64, FD.TYPE_SINT64: I64, FD.TYPE_SFIXED64: I64,
    FD.TYPE_UINT32: U32, FD.TYPE_FIXED32: U32,
    FD.TYPE_UINT64: U64, FD.TYPE_FIXED64: U64,
}  # fmt: skip

# Values worth trying alone, per field of Scalars: boundaries of each encoding and each type.
EDGES: dict[str, list[Any]] = {
    "int32_value": [1, 127, 128, 300, -1, -2, -300, 2**31 - 1, -(2**31)],
    "int64_value": [1, 300, 2**31, 2**35 + 1, 2**63 - 1, -1, -300, -(2**63)],
    "uint32_value": [1, 127, 128, 16383, 16384, 2**32 - 1],
    "uint64_value": [1, 2**32, 2**56 - 1, 2**63, 2**64 - 1],
    "bool_value": [True],
    "enum_value": [1, 2, 3, 4],
    "sint32_value": [1, -1, 2, -2, 63, -64, 64, -65, 2**31 - 1, -(2**31)],
    "sint64_value": [1, -1, -64, 2**31, -(2**31) - 1, 2**33, -(2**40), 2**63 - 1, -(2**63)],
    "fixed32_value": [1, 0x01020304, 2**32 - 1],
    "fixed64_value": [1, 0x0102030405060708, 2**64 - 1],
    "sfixed32_value": [1, -1, 0x01020304, -(2**31), 2**31 - 1],
    "sfixed64_value": [1, -1, 0x0102030405060708, -(2**63), 2**63 - 1],
    "float_value": [1.0, -2.5, 0.10000000149011612, 9.999999680285692e37, 1.401298464324817e-45],
    "double_value": [1.0, -2.5, 0.1, 1e300, 5e-324, 9007199254740993.0],
}
VARINT_FIELDS = ["int32_value", "int64_value", "uint32_value", "uint64_value", "bool_value", "enum_value"]
ZIGZAG_FIELDS = ["sint32_value", "sint64_value"]
FIXED_FIELDS = ["fixed32_value", "fixed64_value", "sfixed32_value", "sfixed64_value", "float_value", "double_value"]


def scalar_strategy(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type in INTEGER_RANGES:
        low, high = INTEGER_RANGES[field.type]
        return st.integers(low, high)
    if field.type == FD.TYPE_BOOL:
        return st.booleans()
    if field.type == FD.TYPE_ENUM:
        assert field.enum_type is not None  # protobuf sets it on every enum field
        return st.sampled_from([value.number for value in field.enum_type.values])
    if field.type == FD.TYPE_FLOAT:  # -0.0 + 0.0 is 0.0: the grader never sends a negative zero
        # The official JSON parser rejects its own shortest form of the largest floats: stay below.
        return st.floats(-(2.0**125), 2.0**125, width=32, allow_nan=False).map(lambda x: x + 0.0)
    if field.type == FD.TYPE_DOUBLE:
        return st.floats(allow_nan=False, allow_infinity=False).map(lambda x: x + 0.0)
    if field.type == FD.TYPE_STRING:
        return st.text(alphabet=ALPHABET, max_size=12)
    if field.type == FD.TYPE_BYTES:
        return st.binary(max_size=12)
    raise ValueError(f"no strategy for {field.full_name}")


def message_strategy(descriptor: Descriptor, depth: int = 2, skip: tuple[str, ...] = ()) -> st.SearchStrategy[Any]:
    """Dicts in the lab's shape with any subset of the fields present (present ones may hold defaults)."""
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.name in skip:
            continue
        if field.message_type is not None:
            if depth == 0:
                continue
            element = message_strategy(field.message_type, depth - 1, skip)
        else:
            element = scalar_strategy(field)
        if field.is_repeated:
            optional[field.name] = st.lists(element, max_size=4)
        elif field.message_type is not None:
            optional[field.name] = st.none() | element
        else:
            optional[field.name] = element
    return st.fixed_dictionaries({}, optional=optional)


def draw(strategy: st.SearchStrategy[Any], count: int, rng: random.Random) -> list[Any]:
    """``count`` examples of ``strategy``, the same ones for the same ``rng`` state."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @seed(rng.getrandbits(64))
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found[:count]


def random_messages(descriptor: Descriptor, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` different random messages, drawn ten to an example since Hypothesis' cost is mostly per example.
    Its first example is the simplest (ten empty messages) and some repeat, so it draws until there are enough."""
    strategy = st.lists(message_strategy(descriptor), min_size=10, max_size=10)
    unique: dict[str, dict[str, Any]] = {}
    for _ in range(4):
        for batch in draw(strategy, -(-(count - len(unique)) // 10) + 1, rng):
            unique.update((repr(message), message) for message in batch)
        if len(unique) >= count:
            break
    return list(unique.values())[:count]


# --- Realistic data for corpora -------------------------------------------------------------------------------

WORDS = ["desk", "lamp", "cable", "chair", "mug", "notebook", "pen", "monitor", "stand", "bag", "Kaffeebecher"]
CITIES = [
    ("Hauptstraße 5", "München", "80331", "DE"),
    ("Rua Augusta 1200", "São Paulo", "01304-001", "BR"),
    ("1-1 Marunouchi", "東京", "100-0005", "JP"),
    ("12 Rue de Rivoli", "Paris", "75004", "FR"),
    ("221B Baker Street", "London", "NW1 6XE", "GB"),
    ("Ulitsa Arbat 10", "Москва", "119002", "RU"),
]
TAGS = ["priority", "fragile", "gift", "b2b", "first-order", "réduction", "express"]


def order(rng: random.Random, number: int) -> dict[str, Any]:
    items = []
    for _ in range(rng.randint(1, 4)):
        word = rng.choice(WORDS)
        items.append(
            {
                "sku": f"SKU-{rng.randint(1000, 99999)}",
                "title": f"{word.capitalize()} {rng.choice(['mini', 'pro', 'XL', 'classic'])}",
                "quantity": rng.randint(1, 5),
                "unit_price": {
                    "currency_code": "EUR",
                    "units": rng.randint(0, 300),
                    "nanos": rng.choice([0, 5 * 10**8, 99 * 10**7]),
                },
            }
        )
    street, city, postal_code, country = rng.choice(CITIES)
    message: dict[str, Any] = {
        "order_id": 10_000_000 + number,
        "customer_email": f"customer{rng.randint(1, 50000)}@example.com",
        "status": rng.randint(1, 4),
        "items": items,
        "shipping_address": {"street": street, "city": city, "postal_code": postal_code, "country_code": country},
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
        "created_at_ms": 1_760_000_000_000 + rng.randint(0, 10**10),
        "total": {"currency_code": "EUR", "units": rng.randint(1, 1500), "nanos": rng.choice([0, 5 * 10**8])},
        "gift": rng.random() < 0.2,
        "coupon_ids": [rng.randint(1, 5000) for _ in range(rng.randint(0, 2))],
        "price_adjustments": [rng.randint(-500, 500) for _ in range(rng.randint(0, 3))],
        "warehouse_ids": [rng.getrandbits(64) for _ in range(rng.randint(1, 2))],
    }
    if rng.random() < 0.3:
        message["signature"] = rng.randbytes(32)
    if rng.random() < 0.3:
        message["note"] = rng.choice(["leave at the door", "call before delivery", "bitte beim Nachbarn abgeben"])
    return message


def telemetry(rng: random.Random) -> dict[str, Any]:
    """A batch of sensor readings: timestamps, small deltas, measurements and flags, all numbers."""
    count = rng.randint(8, 24)
    start = 1_760_000_000_000 + rng.randint(0, 10**9)
    return {
        "int64_values": [start + 1000 * index for index in range(count)],
        "sint32_values": [rng.randint(-40, 40) for _ in range(count)],
        "double_values": [round(rng.uniform(15, 30), 2) for _ in range(count)],
        "bool_values": [rng.random() < 0.1 for _ in range(count)],
        "uint32_values": [rng.randint(0, 100) for _ in range(count)],
    }


def small_negatives(rng: random.Random, field: str) -> dict[str, Any]:
    return {field: [rng.randint(-20, -1) for _ in range(rng.randint(5, 15))]}
