"""Your codec for the messages of shop.proto: the Protobuf wire format and the proto3 JSON mapping, by hand.

The grader imports this module in its own process and calls the functions below; README.md is the complete
specification (the dict shape of a message, every byte of the wire format, the JSON mapping, the errors).
Write it with the standard library only: no protobuf package, no generated code.
shop_schema.py has the schema as Python data, ready to loop over.
"""

from __future__ import annotations

from shop_schema import ENUMS, MESSAGES, Field  # noqa: F401  (the schema, as data)


def encode_varint(value: int) -> bytes:
    """The varint of 0 <= value < 2**64; ValueError outside that range."""
    raise NotImplementedError("TODO: encode_varint (see README.md, 'Varints')")


def decode_varint(data: bytes, offset: int = 0) -> tuple[int, int]:
    """The varint starting at data[offset], as (value, offset just after it); ValueError if malformed."""
    raise NotImplementedError("TODO: decode_varint (see README.md, 'Varints')")


def encode(message_type: str, message: dict) -> bytes:
    """The canonical wire-format bytes of ``message``, a dict of the message type named ``message_type``."""
    raise NotImplementedError("TODO: encode (see README.md, 'The wire format')")


def decode(message_type: str, data: bytes) -> dict:
    """The message encoded in ``data``, as a dict holding every field; ValueError if the bytes are malformed."""
    raise NotImplementedError("TODO: decode (see README.md, 'Decoding')")


def to_json(message_type: str, message: dict) -> str:
    """``message`` in the proto3 JSON mapping, as a JSON text."""
    raise NotImplementedError("TODO: to_json (see README.md, 'The JSON mapping')")


def from_json(message_type: str, text: str) -> dict:
    """The message in a proto3 JSON text, as a dict holding every field."""
    raise NotImplementedError("TODO: from_json (see README.md, 'The JSON mapping')")


def measure(message_type: str, messages: list) -> dict:
    """{"protobuf_bytes": ..., "json_bytes": ...}: the total encoded size of ``messages`` in each format."""
    raise NotImplementedError("TODO: measure (see README.md, 'Measuring')")
