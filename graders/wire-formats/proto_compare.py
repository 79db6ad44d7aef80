"""Comparing what the learner returned with what the oracle says, field by field, and shrinking failures.

Decoded dicts and JSON objects are compared with the schema, strictly by type (True is not 1, "5" is not 5),
except that float fields are compared at 32-bit precision.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from proto_hints import JSON_HINTS, json_hint_for

FD = FieldDescriptor


@dataclass(frozen=True)
class Difference:
    """The first place where the learner's value parts ways with the expected one."""

    path: str
    expected: str
    got: str
    field: FieldDescriptor | None = None
    hint: str | None = None
    reason: str = "value"  # or "missing" (a key left out), "count" (list lengths), "presence" (None vs a message)

    def __str__(self) -> str:
        return f"at `{self.path}`: expected {self.expected}, got {self.got}"


def float32(value: float) -> bytes | None:
    try:
        return struct.pack("<f", value)
    except (OverflowError, struct.error):
        return None


def same_scalar(field: FieldDescriptor, expected: Any, got: Any) -> bool:
    if field.type in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        if isinstance(got, bool) or not isinstance(got, int | float):
            return False
        try:
            number = float(got)
        except OverflowError:  # an int too large for any float
            return False
        if field.type == FD.TYPE_FLOAT:
            return float32(number) == float32(float(expected))
        return number == float(expected)
    return type(got) is type(expected) and got == expected


def describe_value(value: Any) -> str:
    return _short(value, 80)


def dict_difference(descriptor: Descriptor, expected: dict[str, Any], got: Any, path: str = "") -> Difference | None:
    """The first difference between the expected complete dict of a message and what the learner returned."""
    where = path or "the result"
    if not isinstance(got, dict):
        return Difference(where, "a dict", describe_value(got))
    for field in descriptor.fields:
        here = path + field.name
        if field.name not in got:
            got_text = "no such key (the result must hold every field)"
            return Difference(here, describe_value(expected[field.name]), got_text, field, reason="missing")
        difference = value_difference(field, expected[field.name], got[field.name], here)
        if difference is not None:
            return difference
    for key in got:
        if key not in descriptor.fields_by_name:
            return Difference(path + str(key), "no such key", describe_value(got[key]))
    return None


def value_difference(field: FieldDescriptor, expected: Any, got: Any, path: str) -> Difference | None:
    if field.is_repeated:
        if not isinstance(got, list):
            return Difference(path, "a list", describe_value(got), field)
        if len(got) != len(expected):
            expected_text, got_text = (
                f"{len(expected)} elements {_short(expected)}",
                f"{len(got)} elements {_short(got)}",
            )
            return Difference(path, expected_text, got_text, field, reason="count")
        for index, (left, right) in enumerate(zip(expected, got, strict=True)):
            difference = single_difference(field, left, right, f"{path}[{index}]")
            if difference is not None:
                return difference
        return None
    return single_difference(field, expected, got, path)


def single_difference(field: FieldDescriptor, expected: Any, got: Any, path: str) -> Difference | None:
    if field.message_type is not None and expected is not None and got is not None:
        return dict_difference(field.message_type, expected, got, path + ".")
    if field.message_type is not None:
        if expected is None and got is None:
            return None
        return Difference(path, describe_value(expected), describe_value(got), field, reason="presence")
    if same_scalar(field, expected, got):
        return None
    return Difference(path, describe_value(expected), describe_value(got), field)


def _short(value: Any, limit: int = 100) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_difference(descriptor: Descriptor, expected: dict[str, Any], got: Any, path: str = "") -> Difference | None:
    """The first difference between the official JSON object of a message and the learner's."""
    where = path.rstrip(".") or "the JSON value"
    if not isinstance(got, dict):
        return Difference(where, "a JSON object", json.dumps(got, ensure_ascii=False)[:80])
    by_json_name = {field.json_name: field for field in descriptor.fields}
    for key, value in expected.items():
        field = by_json_name[key]
        if key not in got:
            if field.name in got and field.name != key:
                return Difference(
                    path + key, _json(value), f'no such key, but "{field.name}"', field, JSON_HINTS["name"]
                )
            return Difference(path + key, _json(value), "no such key", field)
        difference = json_value_difference(field, value, got[key], path + key)
        if difference is not None:
            return difference
    for key, value in got.items():
        if key not in expected:
            if key in by_json_name:
                return Difference(path + key, "no such key", _json(value), by_json_name[key], JSON_HINTS["default"])
            hint = JSON_HINTS["name"] if key in descriptor.fields_by_name else None
            return Difference(path + key, "no such key", _json(value), descriptor.fields_by_name.get(key), hint)
    return None


def json_value_difference(field: FieldDescriptor, expected: Any, got: Any, path: str) -> Difference | None:
    if field.is_repeated:
        if not isinstance(got, list) or len(got) != len(expected):
            return Difference(path, _json(expected), _json(got), field)
        for index, (left, right) in enumerate(zip(expected, got, strict=True)):
            difference = json_single_difference(field, left, right, f"{path}[{index}]")
            if difference is not None:
                return difference
        return None
    return json_single_difference(field, expected, got, path)


def json_single_difference(field: FieldDescriptor, expected: Any, got: Any, path: str) -> Difference | None:
    if field.message_type is not None:
        return json_difference(field.message_type, expected, got, path + ".")
    if field.type in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE) and same_scalar(field, expected, got):
        return None
    if type(got) is type(expected) and got == expected:
        return None
    return Difference(path, _json(expected), _json(got), field)


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    kind = (
        "a string"
        if isinstance(value, str)
        else "a number"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else None
    )
    text = text if len(text) <= 80 else text[:79] + "…"
    return f"{text} ({kind})" if kind else text


def json_hint(difference: Difference) -> str | None:
    return difference.hint if difference.hint is not None else json_hint_for(difference.field)


# --- shrinking a failing message -------------------------------------------------------------------------------


Rebuild = Callable[[dict[str, Any]], dict[str, Any]]


def shrink(message: dict[str, Any], fails: Callable[[dict[str, Any]], bool], budget: int = 120) -> dict[str, Any]:
    """A smaller message that still fails: fields dropped, lists cut to one element, nested messages shrunk.
    Greedy and bounded by ``budget`` calls of ``fails``, so a learner sees the few fields that matter."""
    calls = 0

    def attempt(candidate: dict[str, Any]) -> bool:
        nonlocal calls
        if calls >= budget:
            return False
        calls += 1
        return fails(candidate)

    def placing(rebuild: Rebuild, current: dict[str, Any], key: str, *, as_list: bool) -> Rebuild:
        """``rebuild`` for a nested message at ``key`` of ``current`` (its list's one element when ``as_list``)."""
        return lambda sub: rebuild({**current, key: [sub] if as_list else sub})

    def reduce(current: dict[str, Any], rebuild: Rebuild) -> dict[str, Any]:
        for key in list(current):
            candidate = {k: v for k, v in current.items() if k != key}
            if attempt(rebuild(candidate)):
                current = candidate
        for key in list(current):
            value = current[key]
            if isinstance(value, list) and len(value) > 1:
                for item in value:
                    candidate = {**current, key: [item]}
                    if attempt(rebuild(candidate)):
                        current = candidate
                        break
            value = current[key]
            if isinstance(value, dict):
                inner = reduce(value, placing(rebuild, current, key, as_list=False))
                current = {**current, key: inner}
            elif isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
                inner = reduce(value[0], placing(rebuild, current, key, as_list=True))
                current = {**current, key: [inner]}
        return current

    return reduce(message, lambda candidate: candidate)
