"""Byte rendering and the report writers, on a results model built by hand."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import jsonschema
from rich.console import Console

from labkit.render import describe_difference, escape_bytes, first_difference, show_value
from labkit.results import CheckResult, LabResult, RunResult, StageResult, Status, lab_from_dict, split_points
from labkit.writers import render, render_terminal
from support import SCHEMA


def test_escape_bytes_is_readable_and_capped() -> None:
    assert escape_bytes(b'ab\x00\n"\\\xff') == '"ab\\x00\\n\\"\\\\\\xff"'
    assert escape_bytes(b"x" * 10, limit=4) == '"xxxx… (+6 more bytes, 10 in all)"'


def test_first_difference_marks_the_offset() -> None:
    assert first_difference(b"abcd", b"abXd") == 2
    assert first_difference(b"abc", b"abcdef") == 3
    assert first_difference(b"same", b"same") is None
    text = describe_difference(b"\x00\x00\x00\x05hello", b"\x05\x00\x00\x00hello")
    assert text.startswith("first difference at byte offset 0 (expected 9 bytes, got 9)")
    assert "^^" in text


def test_points_split_exactly() -> None:
    assert split_points(10, 3) == [3.34, 3.33, 3.33]
    assert round(sum(split_points(15, 7)), 2) == 15
    assert split_points(5, 0) == []


def sample_run() -> RunResult:
    failed = CheckResult(
        id="framing/check_split", name="split frames", status=Status.FAILED, max_points=5,
        message="reply differs\nmore", expected='"\\x00"', got='"\\x01"', hint="loop over recv",
        stderr_tail="Traceback: \x1b[31m boom", transcript=["→ 5 bytes"],
    )  # fmt: skip
    passed = CheckResult(id="connect/check_a", name="accepts", status=Status.PASSED, max_points=5, points=5)
    skipped = CheckResult(id="limits/check_b", name="limits", status=Status.SKIPPED, max_points=10, message="not run")
    lab = LabResult(id="tcp-kv", title="KV", impl="/impl")
    lab.stages = [
        StageResult("connect", "Connect", 1, 5, [passed]),
        StageResult("framing", "Framing", 2, 5, [failed], ["hint one"]),
        StageResult("limits", "Limits", 3, 10, [skipped]),
    ]
    run = RunResult("0.1.0", "2026-11-24T00:00:00+00:00", 42, "auto", "process", "3.11.7", "linux-x86_64", 1.5)
    run.labs.append(lab)
    return run


def test_json_validates_and_round_trips() -> None:
    run = sample_run()
    data = json.loads(render(run, "json"))
    jsonschema.validate(data, json.loads(SCHEMA.read_text()))
    assert (data["exit_code"], data["labs"][0]["points"], data["labs"][0]["stages"][1]["status"]) == (1, 5, "failed")
    assert lab_from_dict(data["labs"][0]).points == run.labs[0].points


def test_junit_is_valid_xml_with_counts() -> None:
    root = ET.fromstring(render(sample_run(), "junit"))
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert suites["tcp-kv.02-framing"].get("failures") == "1"
    assert suites["tcp-kv.03-limits"].get("skipped") == "1"
    failure = root.find(".//failure")
    assert failure is not None and failure.get("message") == "reply differs"
    assert "\\x1b" in (failure.text or ""), "control characters from learner output are escaped, not dropped"


def test_terminal_shows_expected_got_stderr_and_hint() -> None:
    buffer = io.StringIO()
    render_terminal(sample_run(), Console(file=buffer, width=120, color_system=None))
    text = buffer.getvalue()
    for expected in (
        "✗ failed  2 framing",
        "Expected:",
        "Got:",
        "stderr",
        "Hint: loop over recv",
        "Score 5/20",
        "--seed 42",
    ):
        assert expected in text, expected
    assert "→ 5 bytes" not in text, "transcripts only with -v"


def test_exit_code_is_2_on_harness_errors() -> None:
    run = sample_run()
    run.labs[0].stages[0].checks[0].status = Status.ERROR
    assert run.exit_code == 2


def test_values_show_bytes_escaped_as_everywhere_else() -> None:
    assert show_value(b"\x00ok\n") == escape_bytes(b"\x00ok\n") == '"\\x00ok\\n"'
    assert show_value([b"a", (1,), {"k": b"\xff"}]) == '["a", (1,), {\'k\': "\\xff"}]'
    assert show_value("text") == "'text'"


def test_terminal_columns_never_run_together_and_the_hint_points_down_to_the_stderr() -> None:
    run = sample_run()
    run.labs[0].stages[0].title = "Deadlocked transactions are detected and deadlocks are retried"  # > 44 columns
    run.labs[0].stages[1].checks[0].hint = "see the stderr shown below"
    buffer = io.StringIO()
    render_terminal(run, Console(file=buffer, width=120, color_system=None))
    text = buffer.getvalue()
    assert "are retried 5/5" in text, text
    assert text.index("Hint: see the stderr shown below") < text.index("Traceback: "), "the stderr is below"
