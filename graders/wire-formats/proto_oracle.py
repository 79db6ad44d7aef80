"""The grader's oracle: shop.proto compiled by protoc and loaded into the official protobuf library.

Messages cross between the grader and the learner as plain dicts (the shape the lab README specifies); this
module converts them to and from official messages, and builds variants of the schema the learner never sees:
one whose numeric repeated fields are not packed, and a "future" one with extra fields the learner's schema
does not know, to produce bytes with unknown fields.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message
from grpc_tools import protoc

from labkit.errors import HarnessError

PACKAGE = "wireformats"
FD = FieldDescriptor
NUMERIC_TYPES = {
    FD.TYPE_INT32, FD.TYPE_INT64, FD.TYPE_UINT32, FD.TYPE_UINT64, FD.TYPE_SINT32, FD.TYPE_SINT64, FD.TYPE_BOOL,
    FD.TYPE_ENUM, FD.TYPE_FIXED32, FD.TYPE_FIXED64, FD.TYPE_SFIXED32, FD.TYPE_SFIXED64, FD.TYPE_FLOAT, FD.TYPE_DOUBLE,
}  # fmt: skip
TYPE_NAMES = {getattr(FD, name): name.removeprefix("TYPE_").lower() for name in dir(FD) if name.startswith("TYPE_")}

# Fields a future writer adds: one of every wire type, numbers small and huge. (name, number, type, label)
FUTURE_FIELDS = (
    ("future_varint", 1000, FD.TYPE_UINT64, FD.LABEL_OPTIONAL),
    ("future_negative", 1001, FD.TYPE_INT64, FD.LABEL_OPTIONAL),
    ("future_i64", 1002, FD.TYPE_FIXED64, FD.LABEL_OPTIONAL),
    ("future_text", 1003, FD.TYPE_STRING, FD.LABEL_OPTIONAL),
    ("future_i32", 1004, FD.TYPE_FIXED32, FD.LABEL_OPTIONAL),
    ("future_packed", 1005, FD.TYPE_SINT64, FD.LABEL_REPEATED),
    ("future_message", 1006, FD.TYPE_MESSAGE, FD.LABEL_OPTIONAL),
    ("future_last", 536870911, FD.TYPE_BYTES, FD.LABEL_OPTIONAL),  # the largest field number there is
)


def compile_schema(proto: Path, out_dir: Path) -> descriptor_pb2.FileDescriptorProto:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "shop.pb"
    status = protoc.main(["protoc", f"-I{proto.parent}", f"--descriptor_set_out={target}", str(proto)])
    if status != 0:
        raise HarnessError(f"protoc could not compile {proto} (exit {status})")
    return descriptor_pb2.FileDescriptorSet.FromString(target.read_bytes()).file[0]


class Schema:
    """One compiled variant of the schema: message classes by short name ("Order", "CustomerV1.Tier")."""

    def __init__(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        self.package = file.package
        self.pool = descriptor_pool.DescriptorPool()
        self.pool.Add(file)

    def descriptor(self, name: str) -> Descriptor:
        return self.pool.FindMessageTypeByName(f"{self.package}.{name}")

    def message(self, name: str, value: dict[str, Any] | None = None) -> Message:
        message = message_factory.GetMessageClass(self.descriptor(name))()
        fill(message, value or {})
        return message

    def encode(self, name: str, value: dict[str, Any]) -> bytes:
        return self.message(name, value).SerializeToString(deterministic=True)

    def parse(self, name: str, data: bytes) -> Message:
        """Raises DecodeError for bytes the official library rejects."""
        message = message_factory.GetMessageClass(self.descriptor(name))()
        message.ParseFromString(data)
        return message

    def decode(self, name: str, data: bytes) -> dict[str, Any]:
        return to_dict(self.parse(name, data))

    def json_object(self, name: str, value: dict[str, Any]) -> dict[str, Any]:
        """The official proto3 JSON mapping of a message, as the JSON object json.loads would give."""
        result: dict[str, Any] = json_format.MessageToDict(self.message(name, value))
        return result

    def to_json_text(self, name: str, value: dict[str, Any]) -> str:
        return json_format.MessageToJson(self.message(name, value), ensure_ascii=False)

    def parse_json(self, name: str, text: str) -> dict[str, Any]:
        message = message_factory.GetMessageClass(self.descriptor(name))()
        json_format.Parse(text, message)
        return to_dict(message)


class Oracle(Schema):
    """The schema as the learner knows it, plus variants only the grader uses."""

    def __init__(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        super().__init__(file)
        self.unpacked = Schema(renamed(file, "unpacked", unpack_repeated))
        self.future = Schema(renamed(file, "future", add_future_fields))


def fill(message: Message, value: dict[str, Any]) -> None:
    """Sets the fields of an official message from a dict in the lab's shape (missing keys stay default)."""
    for field in message.DESCRIPTOR.fields:
        if field.name not in value or value[field.name] is None:
            continue
        item = value[field.name]
        target = getattr(message, field.name)
        if field.is_repeated and field.message_type is not None:
            for element in item:
                fill(target.add(), element)
        elif field.is_repeated:
            target.extend(item)
        elif field.message_type is not None:
            target.SetInParent()  # present even when empty: an empty nested message is still written
            fill(target, item)
        else:
            setattr(message, field.name, item)


def to_dict(message: Message) -> dict[str, Any]:
    """The complete dict of a message in the lab's shape: every field, defaults included."""
    result: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.is_repeated:
            result[field.name] = [to_dict(item) if field.message_type else item for item in value]
        elif field.message_type is not None:
            result[field.name] = to_dict(value) if message.HasField(field.name) else None
        else:
            result[field.name] = value
    return result


def renamed(file: descriptor_pb2.FileDescriptorProto, suffix: str, change: Any) -> descriptor_pb2.FileDescriptorProto:
    """A copy of the schema in its own package (so it can live beside the original), changed by ``change``."""
    variant = copy.deepcopy(file)
    variant.name = f"{suffix}_{file.name}"
    variant.package = f"{file.package}_{suffix}"
    for message in variant.message_type:
        for field in message.field:
            if field.type_name.startswith(f".{file.package}."):
                field.type_name = f".{variant.package}." + field.type_name.removeprefix(f".{file.package}.")
        change(message, variant.package)
    return variant


def unpack_repeated(message: descriptor_pb2.DescriptorProto, package: str) -> None:
    for field in message.field:
        if field.label == FD.LABEL_REPEATED and field.type in NUMERIC_TYPES:
            field.options.packed = False


def add_future_fields(message: descriptor_pb2.DescriptorProto, package: str) -> None:
    for name, number, kind, label in FUTURE_FIELDS:
        field = message.field.add(name=name, number=number, type=kind, label=label)
        if kind == FD.TYPE_MESSAGE:
            field.type_name = f".{package}.Address"


__all__ = ["TYPE_NAMES", "DecodeError", "Oracle", "Schema", "compile_schema", "to_dict"]
