"""The learner's codec as the checks see it: calls across the driver pipe, compared with the oracle.

Every ``*_failure`` method returns a ``CheckFailed`` (or None) instead of raising, so random checks can shrink
a failing message before reporting it; the ``expect_*`` methods raise.
"""

from __future__ import annotations

import builtins
import json
from typing import Any

from google.protobuf.message import DecodeError

from labkit.checks import log
from labkit.driver import CallTimedOut, Driver, LearnerRaised
from labkit.errors import CheckFailed
from labkit.render import describe_difference, first_difference, hex_bytes
from proto_compare import Difference, dict_difference, json_difference, json_hint, shrink
from proto_hints import decode_hint_for, hint_for
from proto_oracle import Oracle, Schema, to_dict
from proto_walk import default_records, describe_part, locate, out_of_order, show_bytes, walk

CALL_TIMEOUT_S = 5.0
# The driver reports an exception by class name only; these are ValueError and its built-in subclasses.
VALUE_ERRORS = frozenset(
    name for name, kind in vars(builtins).items() if isinstance(kind, type) and issubclass(kind, ValueError)
)
MISSING_HINT = (
    "decode returns every field of the message: a field absent from the bytes holds its default "
    "(0, False, 0.0, '', b'', [] for a repeated field, None for a message field)"
)

FROM_JSON_HINT = (
    "from_json returns the same dict shape as decode: an int for every integer type (64-bit ones arrive as "
    "strings, but numbers are accepted too), the enum number for a name, bytes decoded from base64, "
    "None for an absent message, and keys in lowerCamelCase or as the proto names"
)


def short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Codec:
    """The learner's module behind a driver, with the oracle to judge every answer."""

    def __init__(self, driver: Driver, oracle: Oracle) -> None:
        self.driver = driver
        self.oracle = oracle

    # --- calls -------------------------------------------------------------------------------------------------

    def call(self, function: str, *args: Any, quiet: bool = False) -> Any:
        try:
            return self.driver.call(function, *args, quiet=quiet, timeout=CALL_TIMEOUT_S)
        except CallTimedOut:
            shown = ", ".join(short(arg, 60) for arg in args)
            raise CheckFailed(
                f"{function}({shown}) did not return within {CALL_TIMEOUT_S:g} s",
                hint="look for a loop that never ends: a right shift of a negative number never reaches 0, and a "
                "decoder must advance its offset on every record (and stop at the end of the data)",
            ) from None

    def encode(self, name: str, message: dict[str, Any], *, quiet: bool = False) -> bytes:
        data = self.call("encode", name, message, quiet=quiet)
        if not isinstance(data, bytes):
            raise CheckFailed(f"encode({name!r}, {short(message)}) returned a {type(data).__name__}, not bytes")
        return data

    def to_json(self, name: str, message: dict[str, Any], *, quiet: bool = False) -> str:
        text = self.call("to_json", name, message, quiet=quiet)
        if not isinstance(text, str):
            raise CheckFailed(f"to_json({name!r}, {short(message)}) returned a {type(text).__name__}, not a str")
        return text

    # --- encoding ----------------------------------------------------------------------------------------------

    def encoding_failure(self, name: str, message: dict[str, Any], *, quiet: bool = False) -> CheckFailed | None:
        call = f"encode({name!r}, {short(message)})"
        expected = self.oracle.encode(name, message)
        try:
            got = self.encode(name, message, quiet=quiet)
        except LearnerRaised as raised:
            return CheckFailed(f"{call} raised {raised.type_name}: {raised.text}", got=raised.got, hint=raised.hint)
        if got == expected:
            return None
        lines, hint = self.diagnose(name, message, expected, got)
        return CheckFailed(
            "\n".join([f"{call} differs from the official encoding", describe_difference(expected, got), *lines]),
            expected=hex_bytes(expected, 96),
            got=hex_bytes(got, 96),
            hint=hint,
        )

    def diagnose(self, name: str, message: dict[str, Any], expected: bytes, got: bytes) -> tuple[list[str], str | None]:
        """Where the bytes part ways, how the official library reads the learner's bytes, and the likely cause."""
        descriptor = self.oracle.descriptor(name)
        offset = first_difference(expected, got) or 0
        official = locate(walk(descriptor, expected), offset)
        try:
            records: list[Any] | None = walk(descriptor, got)
        except (ValueError, RecursionError):
            records = None
        yours = locate(records, offset) if records is not None else None
        where, theirs = describe_part(official), describe_part(yours)
        if records is None:
            lines = [f"byte {offset} is {where} in the official bytes; yours cannot be read as records from the start"]
        elif where == theirs:
            lines = [f"byte {offset} is {where} in both"]
        else:
            lines = [f"byte {offset} is {where} in the official bytes and {theirs} in yours"]
        difference = None
        try:
            read = self.oracle.decode(name, got)
        except DecodeError:
            lines.append("the official library cannot parse your bytes")
        else:
            difference = dict_difference(descriptor, to_dict(self.oracle.message(name, message)), read)
            if difference is None:
                lines.append(
                    "the official library reads the same message from your bytes, "
                    "but they are not the encoding the spec requires"
                )
            else:
                lines.append(f"the official library reads your bytes as a different message, {difference}")
        return lines, self.likely_cause(name, message, got, records, official or yours, difference)

    def likely_cause(
        self, name: str, message: dict[str, Any], got: bytes, records: Any, found: Any, difference: Difference | None
    ) -> str | None:
        """The most specific advice for a wrong encoding: from the shape of the learner's bytes, else from the
        field where the official library reads something else, else from the field at the first wrong byte."""
        if got == self.oracle.unpacked.encode(name, message):
            return (
                "your bytes write each element of a repeated numeric field as its own record; proto3 packs them: "
                "one tag with wire type 2, the byte length, then the values back to back"
            )
        if difference is not None and difference.field is not None:
            field = difference.field
            if difference.reason == "count":
                return (
                    "keep every element of a list, even 0, false, '', b'' or {}: only singular fields holding "
                    "their default are left out"
                )
            if difference.reason == "presence" and difference.got == "None":
                return (
                    "a present message is written even when it is empty ({}): its tag, then the length 00; only an "
                    "absent one (None) is left out"
                )
            return hint_for(field)
        if records is not None and (defaults := default_records(records)):
            return (
                f"you wrote `{defaults[0].path}` although it holds its default value; proto3 leaves out every "
                "field equal to its default (0, false, 0.0, empty string, empty bytes)"
            )
        if records is not None and (late := out_of_order(records)) is not None:
            return (
                f"`{late.path}` comes after a field with a larger number; write fields in increasing field-number order"
            )
        if found is None:
            return None
        record, part = found
        if records is None and record.number >= 16:
            part = "tag"  # a one-byte tag for field 16 or more throws every later byte off
        return hint_for(record.field, part)

    def expect_encoding(self, name: str, message: dict[str, Any], *, quiet: bool = False) -> None:
        if (failure := self.encoding_failure(name, message, quiet=quiet)) is not None:
            raise failure

    # --- decoding ----------------------------------------------------------------------------------------------

    def decoding_failure(
        self,
        name: str,
        data: bytes,
        expected: dict[str, Any] | None = None,
        *,
        what: str | None = None,
        hint: str | None = None,
        quiet: bool = False,
    ) -> CheckFailed | None:
        """Compares the learner's decode with ``expected``, by default what the official library decodes."""
        expected = self.oracle.decode(name, data) if expected is None else expected
        call = f"decode({name!r}, {show_bytes(data)})"
        about = [f"the bytes are {what}"] if what else []
        try:
            got = self.call("decode", name, data, quiet=quiet)
        except LearnerRaised as raised:
            lines = [f"{call} raised {raised.type_name}: {raised.text}", *about]
            return CheckFailed("\n".join(lines), got=raised.got, hint=hint or raised.hint)
        difference = dict_difference(self.oracle.descriptor(name), expected, got)
        if difference is None:
            return None
        return CheckFailed(
            "\n".join([f"{call} returned a different message {difference}", *about]),
            expected=short(expected, 600),
            got=short(got, 600),
            hint=hint or decoding_hint(difference),
        )

    def expect_decoding(
        self,
        name: str,
        data: bytes,
        expected: dict[str, Any] | None = None,
        *,
        what: str | None = None,
        hint: str | None = None,
    ) -> None:
        if (failure := self.decoding_failure(name, data, expected, what=what, hint=hint)) is not None:
            raise failure

    def expect_rejected(self, name: str, data: bytes, what: str) -> None:
        """Malformed bytes: decode must raise ValueError, not return something or fail another way."""
        call = f"decode({name!r}, {show_bytes(data)})"
        try:
            got = self.call("decode", name, data)
        except LearnerRaised as raised:
            if raised.type_name in VALUE_ERRORS:
                return
            raise CheckFailed(
                f"{call} raised {raised.type_name}: {raised.text}\nfor {what} the spec asks for ValueError",
                got=raised.got,
                hint="check lengths against the bytes left before reading: struct.error and IndexError are not "
                "ValueError (raise ValueError yourself, or a built-in subclass such as UnicodeDecodeError)",
            ) from None
        raise CheckFailed(
            f"{call} returned {short(got)}\nbut these bytes are {what}: decode must raise ValueError",
            hint="a decoder must notice when a varint, a fixed-width value or a length runs past the end of the "
            "input (or of the nested message it is in), and reject wire types 6 and 7, field number 0 and "
            "strings that are not UTF-8",
        )

    # --- random messages ---------------------------------------------------------------------------------------

    def expect_round_trips(self, name: str, messages: list[dict[str, Any]]) -> None:
        """Each message encodes to the official bytes, and the official bytes decode to the message."""
        for index, message in enumerate(messages):
            for failure_of in (self.encoding_failure, self.decoding_of_official_failure):
                if failure_of(name, message, quiet=True) is not None:
                    self.report_smallest(name, message, index, len(messages), failure_of)
        log(f"{len(messages)} random {name} messages: encode gave the official bytes, decode the message")

    def decoding_of_official_failure(self, name: str, message: dict[str, Any], *, quiet: bool) -> CheckFailed | None:
        what = f"the official encoding of {short(message)}"
        return self.decoding_failure(name, self.oracle.encode(name, message), what=what, quiet=quiet)

    def expect_reads(
        self, reader: str, messages: list[dict[str, Any]], writer: str, schema: Schema, hint: str | None = None
    ) -> None:
        """Messages written by the official library as ``writer`` (of ``schema``) decode as the official
        library decodes them as ``reader``: unknown fields skipped, evolved fields read the same way."""

        def failure_of(_: str, message: dict[str, Any], *, quiet: bool) -> CheckFailed | None:
            data = schema.encode(writer, message)
            what = f"the official encoding of this {writer}: {short(message, 400)}"
            return self.decoding_failure(reader, data, what=what, hint=hint, quiet=quiet)

        for index, message in enumerate(messages):
            if failure_of(reader, message, quiet=True) is not None:
                self.report_smallest(reader, message, index, len(messages), failure_of)
        log(f"{len(messages)} random {writer} messages written officially, read back as {reader}")

    # --- JSON ----------------------------------------------------------------------------------------------------

    def to_json_failure(self, name: str, message: dict[str, Any], *, quiet: bool = False) -> CheckFailed | None:
        call = f"to_json({name!r}, {short(message)})"
        expected = self.oracle.json_object(name, message)
        try:
            text = self.to_json(name, message, quiet=quiet)
        except LearnerRaised as raised:
            return CheckFailed(f"{call} raised {raised.type_name}: {raised.text}", got=raised.got, hint=raised.hint)
        try:
            got = json.loads(text)
        except ValueError as error:
            return CheckFailed(f"{call} returned text that is not JSON: {error}", got=short(text, 600))
        difference = json_difference(self.oracle.descriptor(name), expected, got)
        if difference is None:
            return None
        return CheckFailed(
            f"{call} differs from the official JSON {difference}",
            expected=json.dumps(expected, ensure_ascii=False)[:600],
            got=short(text, 600),
            hint=json_hint(difference),
        )

    def from_json_failure(self, name: str, text: str, *, quiet: bool = False) -> CheckFailed | None:
        """The learner's from_json of ``text`` against the official parse of the same text."""
        call = f"from_json({name!r}, {short(' '.join(text.split()), 300)})"  # line breaks folded for the report
        expected = self.oracle.parse_json(name, text)
        try:
            got = self.call("from_json", name, text, quiet=quiet)
        except LearnerRaised as raised:
            return CheckFailed(f"{call} raised {raised.type_name}: {raised.text}", got=raised.got, hint=raised.hint)
        difference = dict_difference(self.oracle.descriptor(name), expected, got)
        if difference is None:
            return None
        return CheckFailed(
            f"{call} returned a different message {difference}",
            expected=short(expected, 600),
            got=short(got, 600),
            hint=MISSING_HINT if difference.reason == "missing" else FROM_JSON_HINT,
        )

    def expect_to_json(self, name: str, message: dict[str, Any]) -> None:
        if (failure := self.to_json_failure(name, message)) is not None:
            raise failure

    def expect_from_json(self, name: str, text: str) -> None:
        if (failure := self.from_json_failure(name, text)) is not None:
            raise failure

    def expect_json_agrees(self, name: str, messages: list[dict[str, Any]]) -> None:
        """to_json gives the official JSON object, and from_json reads the official JSON text back."""

        def read_failure(_: str, message: dict[str, Any], *, quiet: bool) -> CheckFailed | None:
            return self.from_json_failure(name, self.oracle.to_json_text(name, message), quiet=quiet)

        for index, message in enumerate(messages):
            for failure_of in (self.to_json_failure, read_failure):
                if failure_of(name, message, quiet=True) is not None:
                    self.report_smallest(name, message, index, len(messages), failure_of)
        log(f"{len(messages)} random {name} messages: to_json and from_json agree with the official mapping")

    def report_smallest(self, name: str, message: dict[str, Any], index: int, count: int, failure_of: Any) -> None:
        """Raises the failure of the smallest version of ``message`` that still fails."""
        smallest = shrink(message, lambda candidate: failure_of(name, candidate, quiet=True) is not None)
        failure = failure_of(name, smallest, quiet=False) or failure_of(name, message, quiet=False)
        if failure is None:
            raise CheckFailed(
                f"random message {index + 1} of {count} failed once and then passed: {short(message, 400)}",
                hint="the same input must always give the same result: look for state kept between calls",
            )
        failure.message = f"random message {index + 1} of {count}, cut down to what still fails:\n{failure.message}"
        raise failure


def decoding_hint(difference: Difference) -> str | None:
    if difference.reason == "missing":
        return MISSING_HINT
    return decode_hint_for(difference.field)
