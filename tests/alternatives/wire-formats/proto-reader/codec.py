"""A codec built differently from the reference: it reads shop.proto itself at import time, keeps a cursor
object for decoding, writes fixed-width integers with int.to_bytes, and checks every value it is given."""

from __future__ import annotations

import base64
import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SIGNED = {"int32": 32, "int64": 64, "sint32": 32, "sint64": 64, "sfixed32": 32, "sfixed64": 64}
FIXED_SIZES = {"fixed32": 4, "sfixed32": 4, "float": 4, "fixed64": 8, "sfixed64": 8, "double": 8}
VARINT_KINDS = {"int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool"}
QUOTED_IN_JSON = {"int64", "uint64", "sint64", "fixed64", "sfixed64"}


@dataclass(frozen=True)
class FieldSpec:
    number: int
    name: str
    kind: str  # scalar type name, or the full name of a message or an enum
    repeated: bool

    @property
    def json_name(self) -> str:
        return re.sub(r"_(.)", lambda match: match.group(1).upper(), self.name)


MESSAGES: dict[str, dict[int, FieldSpec]] = {}
ENUMS: dict[str, dict[int, str]] = {}


def load_schema(text: str) -> None:
    """Just enough of the .proto grammar for shop.proto: messages, nested enums, fields, reserved lines."""
    text = re.sub(r"//[^\n]*", "", text)
    scopes: list[str] = []
    for token in re.finditer(r"(message|enum)\s+(\w+)\s*\{|\}|([^;{}]+);", text):
        kind, name, statement = token.group(1), token.group(2), token.group(3)
        if kind:
            scopes.append(name)
            (MESSAGES if kind == "message" else ENUMS)[".".join(scopes)] = {}
        elif token.group(0) == "}":
            scopes.pop()
        elif scopes and ".".join(scopes) in ENUMS:
            label, number = (part.strip() for part in statement.split("="))
            ENUMS[".".join(scopes)][int(number)] = label
        elif scopes and (field := re.fullmatch(r"\s*(repeated\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*", statement)):
            repeated, kind_name, field_name, number = field.groups()
            MESSAGES[".".join(scopes)][int(number)] = FieldSpec(int(number), field_name, kind_name, bool(repeated))
    for message, fields in MESSAGES.items():  # resolve nested type names (Tier -> CustomerV1.Tier)
        for number, spec in fields.items():
            if f"{message}.{spec.kind}" in ENUMS or f"{message}.{spec.kind}" in MESSAGES:
                fields[number] = FieldSpec(spec.number, spec.name, f"{message}.{spec.kind}", spec.repeated)


load_schema((Path(__file__).parent / "shop.proto").read_text(encoding="utf-8"))


def wire_of(spec: FieldSpec) -> int:
    if spec.kind in VARINT_KINDS or spec.kind in ENUMS:
        return 0
    if spec.kind in FIXED_SIZES:
        return 5 if FIXED_SIZES[spec.kind] == 4 else 1
    return 2


def empty_value(spec: FieldSpec) -> Any:
    if spec.repeated:
        return []
    if spec.kind in MESSAGES:
        return None
    return {"bool": False, "float": 0.0, "double": 0.0, "string": "", "bytes": b""}.get(spec.kind, 0)


# --- writing ------------------------------------------------------------------------------------------------


def encode_varint(value: int) -> bytes:
    if type(value) is not int or value < 0 or value.bit_length() > 64:
        raise ValueError(f"not a 64-bit unsigned integer: {value!r}")
    chunks = []
    while True:
        chunks.append(value & 0x7F)
        value >>= 7
        if not value:
            break
        chunks[-1] |= 0x80
    return bytes(chunks)


def scalar_bytes(kind: str, value: Any) -> bytes:
    if kind in FIXED_SIZES:
        if kind in ("float", "double"):
            return struct.pack("<f" if kind == "float" else "<d", value)
        return int(value).to_bytes(FIXED_SIZES[kind], "little", signed=kind.startswith("s"))
    if kind in ("sint32", "sint64"):
        return encode_varint(value * 2 if value >= 0 else -value * 2 - 1)
    if kind == "bool":
        return encode_varint(int(bool(value)))
    return encode_varint(int(value) % (1 << 64))  # int32/int64/uint/enum; negatives as 64-bit two's complement


def length_prefixed(payload: bytes) -> bytes:
    return encode_varint(len(payload)) + payload


def element_bytes(spec: FieldSpec, value: Any) -> bytes:
    if spec.kind in MESSAGES:
        return length_prefixed(encode(spec.kind, value))
    if spec.kind == "string":
        return length_prefixed(value.encode("utf-8"))
    if spec.kind == "bytes":
        return length_prefixed(bytes(value))
    return scalar_bytes(spec.kind, value)


def encode(message_type: str, message: dict) -> bytes:
    fields = MESSAGES[message_type]
    unknown = set(message) - {spec.name for spec in fields.values()}
    if unknown:
        raise ValueError(f"{message_type} has no fields {sorted(unknown)}")
    parts: list[bytes] = []
    for number in sorted(fields):
        spec = fields[number]
        value = message.get(spec.name)
        if spec.repeated and value:
            if wire_of(spec) != 2:
                parts += [
                    encode_varint(number << 3 | 2),
                    length_prefixed(b"".join(scalar_bytes(spec.kind, v) for v in value)),
                ]
            else:
                parts += [encode_varint(number << 3 | 2) + element_bytes(spec, item) for item in value]
        elif not spec.repeated and value is not None and (spec.kind in MESSAGES or value != empty_value(spec)):
            parts.append(encode_varint(number << 3 | wire_of(spec)) + element_bytes(spec, value))
    return b"".join(parts)


# --- reading ------------------------------------------------------------------------------------------------


class Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.at = 0

    def more(self) -> bool:
        return self.at < len(self.data)

    def take(self, count: int) -> bytes:
        if count > len(self.data) - self.at:
            raise ValueError("unexpected end of data")
        chunk = bytes(self.data[self.at : self.at + count])
        self.at += count
        return chunk

    def varint(self) -> int:
        value, self.at = decode_varint(self.data, self.at)
        return value

    def record(self, wire: int) -> Any:
        if wire == 0:
            return self.varint()
        if wire in (1, 5):
            return self.take(8 if wire == 1 else 4)
        if wire == 2:
            return self.take(self.varint())
        raise ValueError(f"bad wire type {wire}")


def decode_varint(data: Any, offset: int = 0) -> tuple[int, int]:
    result = 0
    for shift in range(0, 70, 7):
        if offset >= len(data):
            raise ValueError("varint runs past the end")
        byte = data[offset]
        offset += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result % (1 << 64), offset
    raise ValueError("varint too long")


def scalar_from(kind: str, raw: Any) -> Any:
    if kind in ("float", "double"):
        return struct.unpack("<f" if kind == "float" else "<d", raw)[0]
    if kind in FIXED_SIZES:
        return int.from_bytes(raw, "little", signed=kind.startswith("s"))
    if kind == "string":
        return raw.decode("utf-8")
    if kind == "bytes":
        return raw
    if kind == "bool":
        return raw != 0
    if kind in ("sint32", "sint64"):
        raw &= (1 << SIGNED[kind]) - 1
        return (raw >> 1) if not raw & 1 else -(raw >> 1) - 1
    bits = SIGNED.get(kind, 32 if kind == "uint32" or kind in ENUMS else 64)
    raw &= (1 << bits) - 1
    if (kind in SIGNED or kind in ENUMS) and raw >> (bits - 1):
        raw -= 1 << bits
    return raw


def decode(message_type: str, data: bytes) -> dict:
    fields = MESSAGES[message_type]
    result = {spec.name: empty_value(spec) for spec in fields.values()}
    pending: dict[str, bytes] = {}
    cursor = Cursor(data)
    while cursor.more():
        key = cursor.varint()
        if key >> 3 == 0:
            raise ValueError("field number 0")
        raw = cursor.record(key & 7)
        spec = fields.get(key >> 3)
        if spec is None:
            continue
        if spec.kind in MESSAGES and key & 7 == 2:
            if spec.repeated:
                result[spec.name].append(decode(spec.kind, raw))
            else:
                pending[spec.name] = pending.get(spec.name, b"") + raw
        elif spec.repeated and key & 7 == 2 and wire_of(spec) != 2:
            inner = Cursor(raw)
            while inner.more():
                result[spec.name].append(scalar_from(spec.kind, inner.record(wire_of(spec))))
        elif key & 7 == wire_of(spec):
            value = scalar_from(spec.kind, raw)
            if spec.repeated:
                result[spec.name].append(value)
            else:
                result[spec.name] = value
    for spec in fields.values():
        if spec.name in pending:
            result[spec.name] = decode(spec.kind, pending[spec.name])
    return result


# --- JSON ---------------------------------------------------------------------------------------------------


def json_value(spec: FieldSpec, value: Any) -> Any:
    if spec.kind in MESSAGES:
        return json_object(spec.kind, value)
    if spec.kind in ENUMS:
        return ENUMS[spec.kind].get(value, value)
    if spec.kind == "bytes":
        return base64.b64encode(value).decode()
    return str(value) if spec.kind in QUOTED_IN_JSON else value


def json_object(message_type: str, message: dict) -> dict:
    result = {}
    for spec in MESSAGES[message_type].values():
        value = message.get(spec.name)
        if spec.repeated and value:
            result[spec.json_name] = [json_value(spec, item) for item in value]
        elif not spec.repeated and value is not None and (spec.kind in MESSAGES or value != empty_value(spec)):
            result[spec.json_name] = json_value(spec, value)
    return result


def to_json(message_type: str, message: dict) -> str:
    return json.dumps(json_object(message_type, message), indent=1)


def python_value(spec: FieldSpec, value: Any) -> Any:
    if spec.kind in MESSAGES:
        return from_object(spec.kind, value)
    if spec.kind in ENUMS and isinstance(value, str):
        return next(number for number, label in ENUMS[spec.kind].items() if label == value)
    if spec.kind == "bytes":
        return base64.b64decode(value)
    if spec.kind in ("float", "double"):
        return float(value)
    if spec.kind in ("string", "bool"):
        return value
    return int(value)


def from_object(message_type: str, obj: dict) -> dict:
    fields = MESSAGES[message_type].values()
    result = {spec.name: empty_value(spec) for spec in fields}
    for spec in fields:
        for key in (spec.json_name, spec.name):
            if obj.get(key) is not None:
                value = obj[key]
                result[spec.name] = (
                    [python_value(spec, v) for v in value] if spec.repeated else python_value(spec, value)
                )
    return result


def from_json(message_type: str, text: str) -> dict:
    return from_object(message_type, json.loads(text))


def measure(message_type: str, messages: list) -> dict:
    sizes = {"protobuf_bytes": 0, "json_bytes": 0}
    for message in messages:
        sizes["protobuf_bytes"] += len(encode(message_type, message))
        text = json.dumps(json_object(message_type, message), separators=(",", ":"), ensure_ascii=False)
        sizes["json_bytes"] += len(text.encode())
    return sizes
