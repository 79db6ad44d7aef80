"""The learner's stdout as a log: one JSON object per line, read from where a check started."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from labkit.checks import fail
from labkit.learners import LearnerProcess
from labkit.wait import until

HEX32, HEX16 = "^[0-9a-f]{32}$", "^[0-9a-f]{16}$"
REQUEST_ID = "^[A-Za-z0-9._-]{1,64}$"
LINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["time", "level", "msg"],
    "properties": {
        "time": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$"},
        "level": {"enum": ["debug", "info", "warn", "error"]},
        "msg": {"type": "string"},
    },
}
REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "time", "level", "msg", "method", "route", "path", "status", "duration_seconds", "request_id", "trace_id",
        "span_id",
    ],
    "properties": {
        **LINE_SCHEMA["properties"],
        "method": {"type": "string"},
        "route": {"type": "string"},
        "path": {"type": "string"},
        "status": {"type": "integer"},
        "duration_seconds": {"type": "number", "minimum": 0},
        "request_id": {"type": "string", "pattern": REQUEST_ID},
        "trace_id": {"type": "string", "pattern": HEX32},
        "span_id": {"type": "string", "pattern": HEX16},
    },
}  # fmt: skip
LOG_WAIT_S = 5.0
LINE_VALIDATOR = jsonschema.Draft202012Validator(LINE_SCHEMA)
REQUEST_VALIDATOR = jsonschema.Draft202012Validator(REQUEST_SCHEMA)


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, in the whole of stdout
    text: str
    record: dict[str, Any]


class StdoutLog:
    """What the learner's program wrote on stdout from ``start`` (a byte offset) on."""

    def __init__(self, program: LearnerProcess) -> None:
        self.path: Path = program.stdout_path
        self.start = self._size()

    def _size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def text(self) -> str:
        return self.path.read_bytes()[self.start :].decode("utf-8", errors="replace") if self.path.exists() else ""

    def lines(self) -> list[Line]:
        """Every complete line since the start, each checked to be one JSON object with time, level and msg."""
        data = self.path.read_bytes() if self.path.exists() else b""
        first_number = data[: self.start].count(b"\n") + 1
        complete = data[self.start :].rpartition(b"\n")[0]
        found = []
        for number, raw in enumerate(complete.split(b"\n") if complete else [], start=first_number):
            text = raw.decode("utf-8", errors="replace")
            found.append(Line(number, text, _record(number, text)))
        return found

    def requests(self, count: int) -> list[Line]:
        """The request lines since the start, once there are ``count`` of them (or what came within the wait)."""
        lines = until(lambda: _enough(self.lines(), count), LOG_WAIT_S)
        return lines if lines is not None else _request_lines(self.lines())


def _enough(lines: list[Line], count: int) -> list[Line] | None:
    requests = _request_lines(lines)
    return requests if len(requests) >= count else None


def _request_lines(lines: list[Line]) -> list[Line]:
    return [line for line in lines if line.record.get("msg") == "request"]


def _record(number: int, text: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        fail(
            f"stdout line {number} is not a JSON object",
            expected='one JSON object per line, e.g. {"time": "...", "level": "info", "msg": "request", ...}',
            got=text[:300],
            hint="print only JSON objects on stdout, one per line (json.dumps, no indent); free text goes to stderr",
        )
    error = jsonschema.exceptions.best_match(LINE_VALIDATOR.iter_errors(record))
    if error is not None:
        fail(
            f"stdout line {number} lacks a valid {_field(error)}",
            expected="every line has time (RFC 3339, UTC), level (debug, info, warn, error) and msg",
            got=f"{text[:300]}\n({error.message})",
            hint="time like 2026-05-01T12:00:00.123Z; level in lower case",
        )
    return record


def validate_request_line(line: Line) -> None:
    """The line is valid against the README's request schema."""
    error = jsonschema.exceptions.best_match(REQUEST_VALIDATOR.iter_errors(line.record))
    if error is not None:
        fail(
            f"the request line (stdout line {line.number}) lacks a valid {_field(error)}",
            expected="the fields of the README's request schema",
            got=f"{line.text[:400]}\n({error.message})",
            hint="README.md, Logs: status is an integer, duration_seconds a number, ids in lowercase hex",
        )


def _field(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return "field: " + str(error.message)
    path = ".".join(str(part) for part in error.absolute_path)
    return f"'{path}'" if path else "object"
