"""The Gradescope, GitHub and HTML writers against their documented formats, on a results model built by hand."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser
from pathlib import Path

import jsonschema

from labkit.results import CheckResult, LabResult, RunResult, StageResult, Status
from labkit.writers import render, render_github

GRADESCOPE_SCHEMA = json.loads((Path(__file__).parents[1] / "schemas" / "gradescope-results.schema.json").read_text())


def run_with_hidden_check() -> RunResult:
    passed = CheckResult(id="a/check_ok", name="ok, fine: yes", status=Status.PASSED, max_points=4, points=4)
    failed = CheckResult(
        id="b/check_bad", name="bad", status=Status.FAILED, max_points=3,
        message="100% wrong\nsecond line", expected="<script>alert(1)</script>", got="x", hint="try again",
    )  # fmt: skip
    hidden = CheckResult(
        id="b/check_secret", name="secret", status=Status.FAILED, max_points=3,
        message="the hidden input was 12345", visibility="hidden",
    )  # fmt: skip
    lab = LabResult(id="tcp-kv", title="KV", impl="/impl")
    lab.stages = [StageResult("a", "A", 1, 4, [passed]), StageResult("b", "B", 2, 6, [failed, hidden])]
    run = RunResult("0.1.0", "2026-11-24T00:00:00+00:00", 7, "auto", "process", "3.11", "linux", 2.4)
    run.labs.append(lab)
    return run


def test_gradescope_results_match_the_documented_format() -> None:
    results = json.loads(render(run_with_hidden_check(), "gradescope"))
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == 4
    assert sum(test["max_score"] for test in results["tests"]) == 10
    assert [test["status"] for test in results["tests"]] == ["passed", "failed", "failed"]
    secret = results["tests"][2]
    assert secret["visibility"] == "after_published"
    assert "12345" not in json.dumps(results), "a hidden check's details never reach the learner"


def test_github_commands_are_escaped_and_end_with_the_points_line() -> None:
    report = render_github(run_with_hidden_check())
    lines = report.commands.splitlines()
    assert all(line.startswith("::") for line in lines), "a raw newline would end a workflow command early"
    assert lines[-1] == "::notice title=Autograding complete::Points 4/10"
    assert "100%25 wrong%0Asecond line" in lines[0]
    assert "12345" not in report.commands + report.summary
    assert "| ❌ | 2. b | 0/6 |" in report.summary


def test_github_result_output_is_the_classroom_runner_format() -> None:
    result = json.loads(base64.b64decode(render_github(run_with_hidden_check()).result))
    assert (result["version"], result["status"], result["max_score"]) == (1, "fail", 10)
    assert [(t["status"], t["score"]) for t in result["tests"]] == [("pass", 4), ("fail", 0), ("fail", 0)]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_html_report_escapes_learner_text_and_needs_nothing_external() -> None:
    html = render(run_with_hidden_check(), "html")
    collector = _Collector()
    collector.feed(html)
    assert "script" not in collector.tags, "learner output must be escaped, never markup"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    assert "12345" not in html
