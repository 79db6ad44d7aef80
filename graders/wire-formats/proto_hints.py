"""What to tell a learner about a field of each type: how it is encoded, decoded, and written in JSON."""

from __future__ import annotations

from google.protobuf.descriptor import FieldDescriptor

from proto_oracle import TYPE_NAMES

FD = FieldDescriptor
INTEGER_TYPES = {
    FD.TYPE_INT32, FD.TYPE_INT64, FD.TYPE_UINT32, FD.TYPE_UINT64, FD.TYPE_SINT32, FD.TYPE_SINT64,
    FD.TYPE_FIXED32, FD.TYPE_FIXED64, FD.TYPE_SFIXED32, FD.TYPE_SFIXED64, FD.TYPE_ENUM,
}  # fmt: skip
JSON_STRING_TYPES = {FD.TYPE_INT64, FD.TYPE_UINT64, FD.TYPE_SINT64, FD.TYPE_FIXED64, FD.TYPE_SFIXED64}

TYPE_HINTS = {
    "int32": "int32, int64 and enum values are plain varints; a negative value is first taken as a 64-bit "
    "two's complement (value & 0xFFFFFFFFFFFFFFFF), so it always takes 10 bytes, and is never zigzagged",
    "uint32": "uint32 and uint64 are plain varints: 7 bits per byte, least significant group first, the high "
    "bit set on every byte except the last",
    "bool": "a bool is the varint 1 for true (false is the default, so it is not written)",
    "sint32": "sint32 and sint64 are zigzag-encoded, then written as a varint: (n << 1) ^ (n >> 63) with an "
    "arithmetic shift maps 0, -1, 1, -2 to 0, 1, 2, 3; decoding is (z >> 1) ^ -(z & 1)",
    "fixed32": "fixed32, sfixed32 and float are exactly 4 bytes, little-endian (struct '<I', '<i', '<f')",
    "fixed64": "fixed64, sfixed64 and double are exactly 8 bytes, little-endian (struct '<Q', '<q', '<d')",
    "string": "a string is its tag, the varint length of its UTF-8 encoding (bytes, not characters), then "
    "the UTF-8 bytes",
    "bytes": "bytes are the tag, a varint length, then the raw bytes; a length of 128 or more takes more than one byte",
    "message": "a nested message is its tag (wire type 2), the varint length of its own encoding, then that "
    "encoding; a present but empty message is the tag followed by 00",
    "packed": "a repeated numeric field is packed: one tag with wire type 2, the varint byte length of the "
    "values, then every value back to back without tags",
    "tag": "a tag is the varint (field_number << 3) | wire_type, so from field number 16 on it takes two bytes; "
    "fields are written in increasing field-number order",
}
for _alias, _same in {
    "int64": "int32", "enum": "int32", "uint64": "uint32", "sint64": "sint32", "sfixed32": "fixed32",
    "float": "fixed32", "sfixed64": "fixed64", "double": "fixed64",
}.items():  # fmt: skip
    TYPE_HINTS[_alias] = TYPE_HINTS[_same]


DECODE_HINTS = {
    "int32": "int32 keeps the low 32 bits of the varint, read as signed, as a C++ cast would: -1 arrives as ten "
    "bytes, and a value a newer writer wrote as int64, 2**40 + 5, reads as 5",
    "enum": "enums are open: keep a number the schema does not name as that number; like int32, keep the low 32 "
    "bits of the varint, read as signed",
    "int64": "int64 reads the varint's 64 bits as signed: subtract 2**64 when bit 63 is set",
    "uint32": "uint32 keeps the low 32 bits of the varint",
    "sint32": "sint32 and sint64 are un-zigzagged with (z >> 1) ^ -(z & 1) (for sint32, keep the low 32 bits of z "
    "first)",
    "bool": "a bool is true for any non-zero varint",
    "packed": "a repeated numeric field may arrive packed (one LEN record), unpacked (one record per element, with "
    "the element's own wire type), or as several records of both kinds: append every element in order",
    "message": "a nested message is decoded from the bytes of its LEN record; when the field appears twice, the "
    "result is the decoding of both records' bytes joined (the later values win, lists are appended)",
}
DECODE_HINTS["sint64"] = DECODE_HINTS["sint32"]


JSON_HINTS = {
    "name": "JSON keys are the lowerCamelCase form of the field names: order_id -> orderId, "
    "int32_value -> int32Value (an underscore is dropped and the next letter upper-cased)",
    "default": 'fields holding their default value (0, false, "", empty bytes, an empty list, an absent message) '
    "are left out of the JSON object",
    "int64": 'int64, uint64, sint64, fixed64 and sfixed64 are JSON strings of decimal digits, such as "-5": JSON '
    "numbers lose precision beyond 2**53; the 32-bit integer types are plain numbers",
    "int32": "int32, uint32, sint32, fixed32 and sfixed32 are JSON numbers; only the 64-bit types are strings",
    "enum": 'an enum value is written as its name ("PAID"); a number the schema does not name is written as that '
    "number",
    "bytes": "bytes are written as a base64 string, standard alphabet with padding (base64.b64encode)",
    "float": "float and double are JSON numbers (float is compared at 32-bit precision)",
    "bool": "a bool is JSON true or false",
    "string": "a string is a JSON string",
    "message": "a nested message is a JSON object; a present but empty one is {}",
}


def type_name(field: FieldDescriptor) -> str:
    return TYPE_NAMES[field.type]


def hint_for(field: FieldDescriptor | None, part: str = "value") -> str | None:
    if field is None:
        return None
    if part == "tag":
        return TYPE_HINTS["tag"]
    if field.is_repeated and field.is_packed:
        return TYPE_HINTS["packed"]
    return TYPE_HINTS.get(type_name(field))


def decode_hint_for(field: FieldDescriptor | None) -> str | None:
    if field is None:
        return None
    if field.is_repeated and field.is_packed:
        return DECODE_HINTS["packed"]
    return DECODE_HINTS.get(type_name(field)) or hint_for(field)


def json_hint_for(field: FieldDescriptor | None) -> str | None:
    if field is None:
        return None
    if field.message_type is not None:
        return JSON_HINTS["message"]
    if field.type in JSON_STRING_TYPES:
        return JSON_HINTS["int64"]
    if field.type in INTEGER_TYPES and field.type != FD.TYPE_ENUM:
        return JSON_HINTS["int32"]
    return JSON_HINTS.get({FD.TYPE_DOUBLE: "float"}.get(field.type, type_name(field)))
