"""Walking encoded bytes record by record (tag, length, value), so a wrong byte can be named by field path."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from labkit.render import hex_bytes
from proto_hints import type_name

WIRE_NAMES = {0: "VARINT", 1: "I64", 2: "LEN", 5: "I32"}


def show_bytes(data: bytes, limit: int = 40) -> str:
    """Bytes in hex for a message; the empty string would be invisible there."""
    return hex_bytes(data, limit) if data else "<no bytes>"


@dataclass(frozen=True)
class Record:
    """One field record of an encoded message: where its parts lie and what it holds."""

    start: int
    end: int
    number: int
    wire: int
    path: str
    field: FieldDescriptor | None
    value_start: int
    value: int | bytes
    children: tuple[Record, ...] = ()


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    value = 0
    for index in range(10):
        if offset + index >= len(data):
            raise ValueError("truncated varint")
        byte = data[offset + index]
        value |= (byte & 0x7F) << (7 * index)
        if byte < 0x80:
            return value, offset + index + 1
    raise ValueError("varint longer than 10 bytes")


def walk(descriptor: Descriptor | None, data: bytes, base: int = 0, prefix: str = "") -> list[Record]:
    """The records of ``data``, nested messages walked too. Raises ValueError for malformed bytes."""
    records, seen, offset = [], dict[int, int](), 0
    while offset < len(data):
        start = offset
        key, offset = read_varint(data, offset)
        number, wire = key >> 3, key & 7
        field = descriptor.fields_by_number.get(number) if descriptor is not None else None
        name = field.name if field is not None else f"<field {number}>"
        if field is not None and field.is_repeated and not (field.is_packed and wire == 2):
            name += f"[{seen.get(number, 0)}]"
            seen[number] = seen.get(number, 0) + 1
        path = prefix + name
        value_start = offset
        children: tuple[Record, ...] = ()
        value: int | bytes
        if wire == 0:
            value, offset = read_varint(data, offset)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if offset + size > len(data):
                raise ValueError("truncated fixed-width value")
            value, offset = data[offset : offset + size], offset + size
        elif wire == 2:
            size, value_start = read_varint(data, offset)
            if value_start + size > len(data):
                raise ValueError("length beyond the end")
            value, offset = data[value_start : value_start + size], value_start + size
            if field is not None and field.message_type is not None:
                children = tuple(walk(field.message_type, value, base + value_start, path + "."))
        else:
            raise ValueError(f"wire type {wire}")
        records.append(
            Record(base + start, base + offset, number, wire, path, field, base + value_start, value, children)
        )
    return records


def flatten(records: list[Record] | tuple[Record, ...]) -> list[Record]:
    out = []
    for record in records:
        out.append(record)
        out.extend(flatten(record.children))
    return out


def locate(records: list[Record], offset: int) -> tuple[Record, str] | None:
    """The innermost record holding byte ``offset`` and which part of it: tag, length or value."""
    found = None
    for record in flatten(records):
        if record.start <= offset < record.end:
            found = record
    if found is None:
        return None
    header_end = found.value_start if found.wire != 2 else _length_start(found)
    if offset < header_end:
        return found, "tag"
    if found.wire == 2 and offset < found.value_start:
        return found, "length"
    return found, "value"


def _length_start(record: Record) -> int:
    key = (record.number << 3) | record.wire
    size = 1
    while key >= 0x80:
        key >>= 7
        size += 1
    return record.start + size


def describe_part(found: tuple[Record, str] | None) -> str:
    if found is None:
        return "past the end"
    record, part = found
    kind = type_name(record.field) if record.field is not None else WIRE_NAMES.get(record.wire, "?")
    if record.field is not None and record.field.is_repeated and record.wire == 2 and record.field.is_packed:
        kind = f"packed repeated {kind}"
    return f"the {part} of `{record.path}` ({kind}, field {record.number})"


def default_records(records: list[Record]) -> list[Record]:
    """Records of singular scalar fields that hold the default value: proto3 never writes those."""
    found = []
    for record in flatten(records):
        field = record.field
        if field is None or field.is_repeated or field.message_type is not None:
            continue
        value = record.value
        if (isinstance(value, int) and value == 0) or (isinstance(value, bytes) and not any(value)):
            found.append(record)
    return found


def out_of_order(records: list[Record]) -> Record | None:
    for earlier, later in itertools.pairwise(records):
        if later.number < earlier.number:
            return later
    for record in records:
        if found := out_of_order(list(record.children)):
            return found
    return None
