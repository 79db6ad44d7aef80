"""Files a check attaches (an HTML timeline, a packet log) are kept where the learner finds them and every report
points to them; names are made safe, sizes capped, hidden checks' files concealed. Most tests grade a throwaway
lab of kind "none" through the real CLI; the rest exercise the pieces directly."""

from __future__ import annotations

import json
import os
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from labkit import checks, context
from labkit.artifacts import ArtifactStaging, keep_artifacts, safe_name
from labkit.errors import HarnessError
from labkit.results import Artifact, CheckResult, LabResult, RunResult, StageResult, Status
from labkit.writers import render
from support import SCHEMA, run_labkit

LAB = "attachments"
LAB_TOML = f"""
id = "{LAB}"
title = "Artifacts demo"
track = "test"
services = []
[run]
kind = "none"
[[stages]]
slug = "secret"
title = "A hidden stage"
points = 10
timeout = 10
hidden = true
[[stages]]
slug = "record"
title = "Checks that attach"
points = 40
timeout = 10
"""

SECRET_STAGE = '''
from labkit.checks import attach


def check_private_input():
    """A hidden check attaches what it sent"""
    attach("secret.txt", "private input 4711", "the hidden input")
'''

RECORD_STAGE = '''
from labkit.checks import attach, expect_equal


def check_timeline():
    """A passing check keeps a page and a binary log"""
    attach("timeline.html", "<h1>history ✓</h1>", "the history as a timeline")
    attach("packets.bin", bytes(range(256)), "every datagram")


def check_answer(impl_dir):
    """A failing check still keeps its file"""
    attach("answer.log", impl_dir / "answer.txt", "what the program answered")
    expect_equal((impl_dir / "answer.txt").read_text().strip(), "42", "the answer")


def check_names():
    """Names stay inside the check's folder"""
    attach("../../escape.txt", "up")
    attach("/etc/absolute.txt", "root")
    attach("twice.txt", "first")
    attach("twice.txt", "second")


def check_large():
    """A large attachment is cut at the cap"""
    attach("large.bin", b"x" * (6 * 2**20), "six MiB")
'''


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    root = tmp_path / "kit"
    (root / "labs" / LAB).mkdir(parents=True)
    (root / "labs" / LAB / "lab.toml").write_text(LAB_TOML)
    (root / "graders" / "labkit").mkdir(parents=True)
    (root / "graders" / LAB).mkdir()
    (root / "graders" / LAB / "stage_secret.py").write_text(textwrap.dedent(SECRET_STAGE))
    (root / "graders" / LAB / "stage_record.py").write_text(textwrap.dedent(RECORD_STAGE))
    (root / "impl").mkdir()
    (root / "impl" / "answer.txt").write_text("41\n")
    (tmp_path / "work").mkdir()
    return root


def grade(kit: Path, *args: str) -> tuple[int, str, str]:
    """Grades the throwaway lab from the folder ``work`` next to the kit; returns exit code, stdout and stderr."""
    done = run_labkit(
        "grade", LAB, "--impl", str(kit / "impl"), *args, env={"LABKIT_HOME": str(kit)}, cwd=kit.parent / "work"
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def checks_by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for stage in result["labs"][0]["stages"] for check in stage["checks"]}


def files_under(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


def test_attached_files_are_kept_and_named_in_the_terminal_and_json_reports(kit: Path) -> None:
    work = kit.parent / "work"
    before = files_under(kit.parent)
    code, stdout, stderr = grade(kit, "--format", "json", "--out", "result.json")
    assert code == 1, stderr
    result = json.loads((work / "result.json").read_text())
    jsonschema.validate(result, json.loads(SCHEMA.read_text()))
    root = work / "labkit-artifacts"
    assert result["artifacts_root"] == str(root)

    outside = {name for name in files_under(kit.parent) if not name.startswith("work/labkit-artifacts/")}
    assert outside - before == {"work/result.json"}, "nothing was written outside the artifacts folder"
    assert files_under(root / LAB) == {
        ".labkit-artifacts",
        "record--timeline/timeline.html",
        "record--timeline/packets.bin",
        "record--answer/answer.log",
        "record--names/escape.txt",
        "record--names/etc_absolute.txt",
        "record--names/twice.txt",
        "record--names/twice-2.txt",
        "record--large/large.bin",
    }, "a hidden check's file is never kept for the learner"
    assert (root / LAB / "record--timeline/timeline.html").read_text() == "<h1>history ✓</h1>"
    assert (root / LAB / "record--timeline/packets.bin").read_bytes() == bytes(range(256))
    assert (root / LAB / "record--answer/answer.log").read_text() == "41\n"
    assert [(root / LAB / f"record--names/{name}").read_text() for name in ("twice.txt", "twice-2.txt")] == [
        "first",
        "second",
    ]

    by_name = checks_by_name(result)
    failed = by_name["A failing check still keeps its file"]
    assert failed["status"] == "failed"
    assert failed["artifacts"] == [
        {
            "name": "answer.log",
            "path": f"{LAB}/record--answer/answer.log",
            "description": "what the program answered",
            "bytes": 3,
            "note": None,
        }
    ]
    large = by_name["A large attachment is cut at the cap"]["artifacts"][0]
    assert (large["bytes"], (root / LAB / "record--large/large.bin").stat().st_size) == (5 * 2**20, 5 * 2**20)
    assert large["note"] == "truncated: 6 MiB attached, the first 5 MiB kept; at most 5 MiB per artifact"
    hidden = by_name["A hidden check attaches what it sent"]
    assert (hidden["status"], hidden["artifacts"]) == ("passed", [])
    assert "4711" not in json.dumps(result)

    page = "labkit-artifacts/attachments/record--timeline/timeline.html — the history as a timeline"
    assert f"artifact: {page}" in stdout, "a passed check is listed for its artifact"
    assert "artifact: labkit-artifacts/attachments/record--answer/answer.log — what the program answered" in stdout
    assert "(truncated: 6 MiB attached, the first 5 MiB kept; at most 5 MiB per artifact)" in " ".join(stdout.split())


def test_each_grading_replaces_the_labs_artifacts_and_the_html_report_links_them(kit: Path) -> None:
    work = kit.parent / "work"
    code, _, stderr = grade(kit, "--format", "json")
    assert code == 1, stderr
    (kit / "impl" / "answer.txt").write_text("42\n")
    stale = work / "labkit-artifacts" / LAB / "record--answer" / "answer.log"
    assert stale.read_text() == "41\n"

    (work / "report").mkdir()
    code, _, stderr = grade(kit, "--format", "html", "--out", "report/index.html", "--hidden-details")
    assert code == 0, stderr
    assert stale.read_text() == "42\n", "this run's file, not the last run's"
    secret = work / "labkit-artifacts" / LAB / "secret--private-input" / "secret.txt"
    assert secret.read_text() == "private input 4711", "--hidden-details keeps a hidden check's files too"
    html = (work / "report" / "index.html").read_text()
    for folder, name in (("record--timeline", "timeline.html"), ("record--timeline", "packets.bin"),
                         ("secret--private-input", "secret.txt")):  # fmt: skip
        link = f"../labkit-artifacts/{LAB}/{folder}/{name}"
        assert f'<a href="{link}">{name}</a>' in html
        assert (work / "report" / link).is_file(), "a relative link from the page's folder"


def test_nothing_is_made_when_no_file_is_kept_and_old_files_go(kit: Path) -> None:
    work = kit.parent / "work"
    old = work / "labkit-artifacts" / LAB / "record--old"
    old.mkdir(parents=True)
    (old.parent / ".labkit-artifacts").write_text("")
    (old / "stale.txt").write_text("from an earlier run")
    code, stdout, stderr = grade(kit, "--stage", "1")  # only the hidden stage, whose file the learner never sees
    assert code == 0, stderr
    assert not (work / "labkit-artifacts" / LAB).exists()
    assert "artifact:" not in stdout


def test_a_folder_labkit_did_not_make_is_never_replaced(kit: Path, tmp_path: Path) -> None:
    someone = tmp_path / "elsewhere" / LAB
    someone.mkdir(parents=True)
    (someone / "notes.txt").write_text("mine")
    code, _, stderr = grade(kit, "--artifacts", str(tmp_path / "elsewhere"))
    assert code == 2
    assert f"{someone} exists and was not made by labkit" in " ".join(stderr.split()) and "Traceback" not in stderr
    assert files_under(someone) == {"notes.txt"}


def test_a_cohort_keeps_each_submissions_artifacts_next_to_its_result(kit: Path, tmp_path: Path) -> None:
    submission = tmp_path / "submissions" / "ada"
    submission.mkdir(parents=True)
    (submission / "answer.txt").write_text("42\n")
    out = tmp_path / "results"
    done = run_labkit(
        "cohort", "grade", str(tmp_path / "submissions"), "--lab", LAB, "--out", str(out),
        env={"LABKIT_HOME": str(kit)}, cwd=kit.parent / "work",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((out / "ada.json").read_text())
    assert result["artifacts_root"] == str(out / "ada.artifacts")
    assert (out / "ada.artifacts" / LAB / "record--answer" / "answer.log").read_text() == "42\n"
    assert not (kit.parent / "work" / "labkit-artifacts").exists()


def test_names_become_plain_file_names() -> None:
    assert safe_name("timeline.html") == "timeline.html"
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("/abs/a b.txt") == "abs_a_b.txt"
    assert safe_name("..") == "artifact"
    long = safe_name("x" * 300 + ".html")
    assert (len(long), long[-5:]) == (100, ".html")


def test_the_run_cap_truncates_later_artifacts_without_failing(tmp_path: Path) -> None:
    staging = ArtifactStaging(tmp_path, LAB, max_artifact=10, max_run=15)
    shelf = staging.shelf("stage_a.py::check_a", "a", "check_a")
    first = shelf.store("one.bin", b"1" * 12)
    second = shelf.store("two.bin", b"2" * 8)
    third = shelf.store("three.bin", b"3")
    assert [(a.bytes, a.note is not None) for a in (first, second, third)] == [(10, True), (5, True), (0, True)]
    assert second.note == "truncated: 8 bytes attached, the first 5 bytes kept; the 15 bytes allowed for a lab's" \
        " artifacts were used up"  # fmt: skip
    assert (tmp_path / "artifacts" / LAB / "a--a" / "two.bin").read_bytes() == b"22222"


def test_attach_outside_a_check_is_a_grader_bug() -> None:
    context.reset()
    with pytest.raises(HarnessError, match="only while a check runs"):
        checks.attach("x.txt", "x")


def lab_with(*artifacts: Artifact) -> LabResult:
    check = CheckResult("a/check_a", "a", Status.PASSED, 1, 1, artifacts=list(artifacts))
    return LabResult(LAB, "T", "/impl", [StageResult("a", "A", 1, 1, [check])])


def test_only_safe_paths_to_regular_files_are_copied(tmp_path: Path) -> None:
    staged = tmp_path / "run" / "artifacts" / LAB / "a--a"
    staged.mkdir(parents=True)
    (staged / "ok.txt").write_text("fine")
    (tmp_path / "private.txt").write_text("not for the report")
    os.symlink(tmp_path / "private.txt", staged / "link.txt")
    forged = Artifact("x", f"{LAB}/../../../outside.txt", bytes=4)
    link = Artifact("link.txt", f"{LAB}/a--a/link.txt", bytes=18)
    lab = lab_with(Artifact("ok.txt", f"{LAB}/a--a/ok.txt", bytes=4), forged, link)
    assert keep_artifacts(lab, tmp_path / "run", tmp_path / "kept") == 1
    assert files_under(tmp_path / "kept") == {f"{LAB}/.labkit-artifacts", f"{LAB}/a--a/ok.txt"}
    assert forged.note is not None and forged.note.startswith("not kept: refused path")
    assert link.note is not None and link.note.startswith("not kept:")


def test_junit_names_artifacts_as_attachments(tmp_path: Path) -> None:
    run = RunResult("0", "2026-01-01T00:00:00+00:00", 1, "auto", "process", "3.11", "linux")
    run.labs.append(lab_with(Artifact("t.html", f"{LAB}/a--a/t.html", "timeline", 10)))
    run.artifacts_root = str(tmp_path / "kept")
    case = ET.fromstring(render(run, "junit")).find(".//testcase")
    assert case is not None
    assert case.findtext("system-out") == f"[[ATTACHMENT|{tmp_path}/kept/{LAB}/a--a/t.html]]"
