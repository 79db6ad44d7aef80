"""The CLI as a user meets it: exit codes, messages without tracebacks, machine-readable output."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

from support import KIT, SCHEMA, run_labkit


def test_list_json_describes_the_catalog() -> None:
    done = run_labkit("list", "--format", "json")
    assert done.returncode == 0
    labs = {lab["id"]: lab for lab in json.loads(done.stdout)}
    tcp = labs["tcp-kv"]
    assert tcp["points"] == sum(stage["points"] for stage in tcp["stages"]) == 100
    assert [stage["slug"] for stage in tcp["stages"]][:2] == ["connect", "request-response"]


def test_list_table_names_every_lab() -> None:
    done = run_labkit("list")
    assert done.returncode == 0 and "tcp-kv" in done.stdout


def test_hint_for_one_stage_by_slug_and_number() -> None:
    by_slug, by_number = run_labkit("hint", "tcp-kv", "framing"), run_labkit("hint", "tcp-kv", "3")
    assert by_slug.returncode == 0 and by_slug.stdout == by_number.stdout
    assert "recv()" in by_slug.stdout and "connect" not in by_slug.stdout.split("\n", 1)[0]


def test_usage_errors_exit_2_without_traceback() -> None:
    for args in (
        ("grade", "no-such-lab"),
        ("grade", "tcp-kv", "--stage", "99"),
        ("grade", "tcp-kv", "--impl", "/nonexistent"),
        ("grade", "tcp-kv", "--format", "yaml"),
        ("grade", "tcp-kv", "--services", "cloud"),
        ("grade",),
        ("hint", "tcp-kv", "nope"),
    ):
        done = run_labkit(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr + done.stdout, args
        assert "labkit" in done.stderr, args


def test_one_stage_of_the_solution_passes_alone(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = run_labkit(
        "grade", "tcp-kv", "--impl", str(KIT / "solutions" / "tcp-kv"), "--stage", "2", "--format", "json",
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    jsonschema.validate(result, json.loads(SCHEMA.read_text()))
    assert [stage["slug"] for stage in result["labs"][0]["stages"]] == ["connect", "request-response"]
    assert "Score 20/20" in done.stdout


def test_starter_report_is_actionable_in_every_format(tmp_path: Path) -> None:
    terminal = run_labkit("grade", "tcp-kv", "--seed", "5")
    assert terminal.returncode == 1
    for expected in ("exited with code 1", "TODO", "Hint", "labkit hint tcp-kv connect", "--seed 5"):
        assert expected in terminal.stdout, expected
    junit = run_labkit("grade", "tcp-kv", "--format", "junit")
    root = ET.fromstring(junit.stdout)
    assert root.findall(".//failure") and root.findall(".//skipped")


def test_doctor_reports_providers() -> None:
    done = run_labkit("doctor")
    assert done.returncode == 0, done.stdout
    for provider in ("embedded", "docker", "external", "auto"):
        assert f"services: {provider}" in done.stdout
