"""A hand-written codec for the messages of shop.proto: the Protobuf wire format and the proto3 JSON mapping.

Messages are plain dicts (see the lab README for their exact shape); the schema comes from shop_schema.py.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from shop_schema import ENUMS, MESSAGES, Field

VARINT, I64, LEN, I32 = 0, 1, 2, 5
MAX_UINT64 = (1 << 64) - 1

VARINT_TYPES = {"int32", "int64", "uint32", "uint64", "bool", "sint32", "sint64"}
FIXED_FORMATS = {  # type -> (wire type, struct format)
    "fixed32": (I32, "<I"),
    "sfixed32": (I32, "<i"),
    "float": (I32, "<f"),
    "fixed64": (I64, "<Q"),
    "sfixed64": (I64, "<q"),
    "double": (I64, "<d"),
}
JSON_STRING_INTEGERS = {"int64", "uint64", "sint64", "fixed64", "sfixed64"}


# --- varints -------------------------------------------------------------------------------------------------


def encode_varint(value: int) -> bytes:
    if not 0 <= value <= MAX_UINT64:
        raise ValueError(f"a varint holds 0 to 2**64 - 1, not {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(data: bytes, offset: int = 0) -> tuple[int, int]:
    value = 0
    for index in range(10):
        if offset + index >= len(data):
            raise ValueError(f"truncated varint at offset {offset}")
        byte = data[offset + index]
        value |= (byte & 0x7F) << (7 * index)
        if byte < 0x80:
            return value & MAX_UINT64, offset + index + 1
    raise ValueError(f"varint longer than 10 bytes at offset {offset}")


def zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)  # 0, -1, 1, -2 ... -> 0, 1, 2, 3 ...


def unzigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


# --- kinds of field ------------------------------------------------------------------------------------------


def is_message(field: Field) -> bool:
    return field.type in MESSAGES


def is_enum(field: Field) -> bool:
    return field.type in ENUMS


def wire_type(field: Field) -> int:
    if field.type in VARINT_TYPES or is_enum(field):
        return VARINT
    if field.type in FIXED_FORMATS:
        return FIXED_FORMATS[field.type][0]
    return LEN  # string, bytes, message


def default(field: Field) -> Any:
    if field.repeated:
        return []
    if is_message(field):
        return None
    return {"bool": False, "float": 0.0, "double": 0.0, "string": "", "bytes": b""}.get(field.type, 0)


# --- encoding ------------------------------------------------------------------------------------------------


def tag(number: int, wire: int) -> bytes:
    return encode_varint(number << 3 | wire)


def encode_value(field: Field, value: Any) -> bytes:
    """The bytes of one value, without its tag (the length prefix is included for LEN values)."""
    if is_message(field):
        body = encode(field.type, value)
        return encode_varint(len(body)) + body
    if field.type == "string":
        body = value.encode("utf-8")
        return encode_varint(len(body)) + body
    if field.type == "bytes":
        return encode_varint(len(value)) + bytes(value)
    if field.type in FIXED_FORMATS:
        return struct.pack(FIXED_FORMATS[field.type][1], value)
    number = int(value)
    if field.type in ("sint32", "sint64"):
        return encode_varint(zigzag(number))
    return encode_varint(number & MAX_UINT64)  # negative int32/int64/enum: 64-bit two's complement, 10 bytes


def encode(message_type: str, message: dict) -> bytes:
    out = bytearray()
    for field in sorted(MESSAGES[message_type], key=lambda f: f.number):
        value = message.get(field.name)
        if field.repeated:
            values = value or []
            if not values:
                continue
            if wire_type(field) != LEN:  # numeric: packed into one record
                body = b"".join(encode_value(field, item) for item in values)
                out += tag(field.number, LEN) + encode_varint(len(body)) + body
            else:
                for item in values:  # even "" or {} elements are written
                    out += tag(field.number, LEN) + encode_value(field, item)
        elif value is not None and (is_message(field) or value != default(field)):
            out += tag(field.number, wire_type(field)) + encode_value(field, value)
    return bytes(out)


# --- decoding ------------------------------------------------------------------------------------------------


def take(data: bytes, offset: int, size: int) -> tuple[bytes, int]:
    if size > len(data) - offset:
        raise ValueError(f"{size} bytes announced at offset {offset}, only {len(data) - offset} left")
    return data[offset : offset + size], offset + size


def read_record(data: bytes, offset: int, wire: int) -> tuple[int | bytes, int]:
    """One value of the given wire type: an int for VARINT, the raw bytes for I64, I32 and LEN."""
    if wire == VARINT:
        return decode_varint(data, offset)
    if wire == I64:
        return take(data, offset, 8)
    if wire == I32:
        return take(data, offset, 4)
    if wire == LEN:
        size, offset = decode_varint(data, offset)
        return take(data, offset, size)
    raise ValueError(f"unsupported wire type {wire}")


def decode_scalar(field: Field, raw: Any) -> Any:
    if field.type in FIXED_FORMATS:
        return struct.unpack(FIXED_FORMATS[field.type][1], raw)[0]
    if field.type == "string":
        return bytes(raw).decode("utf-8")
    if field.type == "bytes":
        return bytes(raw)
    number = int(raw)
    if field.type == "bool":
        return number != 0
    if field.type == "uint32":
        return number & 0xFFFFFFFF
    if field.type == "uint64":
        return number
    if field.type == "int64":
        return signed(number, 64)
    if field.type == "sint32":
        return unzigzag(number & 0xFFFFFFFF)
    if field.type == "sint64":
        return unzigzag(number)
    return signed(number, 32)  # int32 and enums: truncated to 32 bits, as C++ would cast


def unpack(field: Field, body: bytes) -> list[Any]:
    """The elements of a packed record."""
    items, offset = [], 0
    while offset < len(body):
        raw, offset = read_record(body, offset, wire_type(field))
        items.append(decode_scalar(field, raw))
    return items


def decode(message_type: str, data: bytes) -> dict:
    fields = {field.number: field for field in MESSAGES[message_type]}
    result = {field.name: default(field) for field in MESSAGES[message_type]}
    nested: dict[int, list[bytes]] = {}  # a message field seen twice is merged: decode its records joined
    offset = 0
    while offset < len(data):
        key, offset = decode_varint(data, offset)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0 is not allowed")
        raw, offset = read_record(data, offset, wire)
        field = fields.get(number)
        if field is None:
            continue  # unknown field: skipped
        if field.repeated and wire == LEN and wire_type(field) != LEN:
            result[field.name].extend(unpack(field, raw))
        elif wire != wire_type(field):
            continue  # a known number with another wire type is treated as unknown, like the official parser
        elif is_message(field):
            if field.repeated:
                result[field.name].append(decode(field.type, raw))
            else:
                nested.setdefault(number, []).append(raw)
        elif field.repeated:
            result[field.name].append(decode_scalar(field, raw))
        else:
            result[field.name] = decode_scalar(field, raw)  # the last value wins
    for number, chunks in nested.items():
        result[fields[number].name] = decode(fields[number].type, b"".join(chunks))
    return result


# --- JSON ----------------------------------------------------------------------------------------------------


def json_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def value_to_json(field: Field, value: Any) -> Any:
    if is_message(field):
        return message_to_json(field.type, value)
    if is_enum(field):
        return ENUMS[field.type].get(value, value)
    if field.type == "bytes":
        return base64.b64encode(value).decode("ascii")
    if field.type in JSON_STRING_INTEGERS:
        return str(value)
    return value


def message_to_json(message_type: str, message: dict) -> dict:
    out = {}
    for field in MESSAGES[message_type]:
        value = message.get(field.name)
        if field.repeated:
            if value:
                out[json_name(field.name)] = [value_to_json(field, item) for item in value]
        elif value is not None and (is_message(field) or value != default(field)):
            out[json_name(field.name)] = value_to_json(field, value)
    return out


def to_json(message_type: str, message: dict) -> str:
    return json.dumps(message_to_json(message_type, message), ensure_ascii=False)


def value_from_json(field: Field, value: Any) -> Any:
    if is_message(field):
        if not isinstance(value, dict):
            raise ValueError(f"{field.name}: expected an object")
        return message_from_json(field.type, value)
    if is_enum(field):
        if isinstance(value, str):
            names = {name: number for number, name in ENUMS[field.type].items()}
            if value not in names:
                raise ValueError(f"{field.name}: unknown enum name {value!r}")
            return names[value]
        return int(value)
    if field.type == "bytes":
        return base64.b64decode(value, validate=True)
    if field.type == "string" or field.type == "bool":
        return value
    if field.type in ("float", "double"):
        return float(value)
    return int(value)  # integers arrive as numbers or decimal strings


def message_from_json(message_type: str, data: dict) -> dict:
    by_key = {}
    for field in MESSAGES[message_type]:
        by_key[field.name] = by_key[json_name(field.name)] = field
    result = {field.name: default(field) for field in MESSAGES[message_type]}
    for key, value in data.items():
        field = by_key.get(key)
        if field is None:
            raise ValueError(f"{message_type} has no field {key!r}")
        if value is None:
            continue  # null means the default
        if field.repeated:
            result[field.name] = [value_from_json(field, item) for item in value]
        else:
            result[field.name] = value_from_json(field, value)
    return result


def from_json(message_type: str, text: str) -> dict:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a message is a JSON object")
    return message_from_json(message_type, data)


# --- measuring -----------------------------------------------------------------------------------------------


def measure(message_type: str, messages: list[dict]) -> dict:
    protobuf_bytes = json_bytes = 0
    for message in messages:
        protobuf_bytes += len(encode(message_type, message))
        compact = json.dumps(json.loads(to_json(message_type, message)), separators=(",", ":"), ensure_ascii=False)
        json_bytes += len(compact.encode("utf-8"))
    return {"protobuf_bytes": protobuf_bytes, "json_bytes": json_bytes}
