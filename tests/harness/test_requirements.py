"""A stage that requires what the machine lacks (``requires = [...]`` in lab.toml) is reported as not run, with the
reason: neither a failure nor points earned, left out of the score and of the maximum, and no rung of the ladder.
A throwaway lab of kind "none" is graded through the real CLI, once with an implementation that passes and once
with one that fails its first stage; the reports are then rendered from those results."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from labkit.requirements import Requirement, presence
from labkit.results import RunResult, lab_from_dict
from labkit.settings import reset_settings
from labkit.writers import render, render_github
from support import SCHEMA, run_labkit

LAB = "needs"
LAB_TOML = f"""
id = "{LAB}"
title = "Requirements demo"
track = "test"
services = []
[run]
kind = "none"
[[stages]]
slug = "basics"
title = "Runs anywhere"
points = 10
timeout = 10
[[stages]]
slug = "missing-tool"
title = "Needs a tool no machine has"
points = 20
timeout = 10
requires = ["command:labkit-no-such-tool-xyz"]
[[stages]]
slug = "shell"
title = "Needs a shell"
points = 30
timeout = 10
requires = ["command:sh"]
"""

STAGES = {
    "basics": '''
        from labkit.checks import expect_equal


        def check_answer(impl_dir):
            """answer.txt holds the answer"""
            expect_equal((impl_dir / "answer.txt").read_text().strip(), "42", "the answer")
        ''',
    "missing_tool": '''
        from labkit.checks import fail


        def check_uses_the_tool():
            """The tool is used"""
            fail("this check ran although its stage's requirement is missing")


        def check_uses_it_again():
            """The tool is used again"""
            fail("this check ran although its stage's requirement is missing")
        ''',
    "shell": '''
        import subprocess


        def check_shell_runs(impl_dir):
            """A shell script runs"""
            done = subprocess.run(["sh", "-c", "cat answer.txt"], cwd=impl_dir, capture_output=True, timeout=5)
            assert done.stdout == b"42\\n", done
        ''',
}
MISSING = "needs the command `labkit-no-such-tool-xyz`: not found on PATH"
NO_ENGINE = "unix:///nonexistent/labkit-test-docker.sock"  # doctor must not reach a real engine here


def write_kit(root: Path) -> Path:
    (root / "labs" / LAB).mkdir(parents=True)
    (root / "labs" / LAB / "lab.toml").write_text(LAB_TOML)
    (root / "graders" / "labkit").mkdir(parents=True)
    (root / "graders" / LAB).mkdir()
    for slug, source in STAGES.items():
        (root / "graders" / LAB / f"stage_{slug}.py").write_text(textwrap.dedent(source))
    for name, answer in (("good", "42\n"), ("wrong", "41\n")):
        (root / name).mkdir()
        (root / name / "answer.txt").write_text(answer)
    return root


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kit(tmp_path_factory.mktemp("kit"))


def grade(kit: Path, impl: str) -> tuple[int, str, dict[str, Any]]:
    out = kit / f"{impl}.json"
    done = run_labkit(
        "grade", LAB, "--impl", str(kit / impl), "--format", "json", "--out", str(out), env={"LABKIT_HOME": str(kit)}
    )  # fmt: skip
    assert out.is_file(), done.stderr
    return done.returncode, done.stdout, json.loads(out.read_text())


@pytest.fixture(scope="module")
def passing(kit: Path) -> tuple[int, str, dict[str, Any]]:
    return grade(kit, "good")


@pytest.fixture(scope="module")
def failing(kit: Path) -> tuple[int, str, dict[str, Any]]:
    return grade(kit, "wrong")


def stages(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(stage["slug"], stage["status"]) for stage in result["labs"][0]["stages"]]


def as_run(result: dict[str, Any]) -> RunResult:
    meta = {key: result[key] for key in ("labkit_version", "started_at", "seed", "services", "sandbox", "python")}
    return RunResult(**meta, platform=result["platform"], labs=[lab_from_dict(lab) for lab in result["labs"]])


def test_a_stage_whose_requirement_is_missing_is_not_run_and_left_out_of_the_score(
    passing: tuple[int, str, dict[str, Any]],
) -> None:
    code, terminal, result = passing
    jsonschema.validate(result, json.loads(SCHEMA.read_text()))
    lab = result["labs"][0]
    assert code == 0, terminal
    assert stages(result) == [("basics", "passed"), ("missing-tool", "not_run"), ("shell", "passed")]
    assert (lab["points"], lab["max_points"], lab["not_run_points"], lab["passed"]) == (40, 40, 20, True)
    missing_tool = lab["stages"][1]
    assert missing_tool["not_run"] == MISSING
    assert [(c["status"], c["points"], c["message"]) for c in missing_tool["checks"]] == [
        ("not_run", 0, f"not run: {MISSING}"),
        ("not_run", 0, f"not run: {MISSING}"),
    ], "reported check by check, and never run"
    assert lab["stages"][2]["not_run"] is None

    text = " ".join(terminal.split())
    assert "Score 40/40 every stage that ran passed" in text
    assert f"20 points not run: {MISSING}" in text
    assert f"○ not run 2 missing-tool Needs a tool no machine has {MISSING}" in text


def test_a_failure_before_it_still_stops_the_ladder_and_fails_the_run(failing: tuple[int, str, dict[str, Any]]) -> None:
    code, terminal, result = failing
    lab = result["labs"][0]
    assert code == 1, terminal
    assert stages(result) == [("basics", "failed"), ("missing-tool", "not_run"), ("shell", "skipped")]
    assert (lab["points"], lab["max_points"], lab["passed"]) == (0, 40, False)
    assert "stage 1 'basics' did not pass" in terminal


def test_every_report_says_what_was_not_run(passing: tuple[int, str, dict[str, Any]], tmp_path: Path) -> None:
    run = as_run(passing[2])

    junit = ET.fromstring(render(run, "junit"))
    suite = next(s for s in junit.iter("testsuite") if s.get("name") == f"{LAB}.02-missing-tool")
    assert (suite.get("skipped"), suite.get("failures")) == ("2", "0")
    assert [s.get("message") for s in suite.iter("skipped")] == [f"not run: {MISSING}"] * 2

    html = render(run, "html", report_dir=tmp_path)
    assert f'<p class="not_run">20 points not run: {MISSING}</p>' in html
    assert '<span class="not_run">not run</span>' in html and "not run (20)" in html

    github = render_github(run)
    assert github.commands.splitlines()[-1] == "::notice title=Autograding complete::Points 40/40"
    assert f"::notice title={LAB}%3A not run::20 points not run: {MISSING}" in github.commands
    assert "| ⏸️ | 2. missing-tool | not run (20) |" in github.summary
    classroom = json.loads(base64.b64decode(github.result))
    assert [test["status"] for test in classroom["tests"]] == ["pass", "pass"], "checks not run are left out"
    assert classroom["max_score"] == 40

    gradescope = json.loads(render(run, "gradescope"))
    not_run = [test for test in gradescope["tests"] if "missing-tool" in test["tags"]]
    assert [(t["score"], t["max_score"], "status" in t) for t in not_run] == [(0, 0, False), (0, 0, False)]
    assert gradescope["score"] == 40 and f"{LAB}: 20 points not run: {MISSING}" in gradescope["output"]


def test_the_cohort_report_leaves_stages_not_run_out_of_pass_rates_and_maximums(
    passing: tuple[int, str, dict[str, Any]], failing: tuple[int, str, dict[str, Any]], tmp_path: Path
) -> None:
    results = tmp_path / "results"
    results.mkdir()
    ran_it = json.loads(json.dumps(passing[2]))  # as graded on a machine that has the tool
    ran_it["labs"][0]["stages"][1].update(status="passed", not_run=None, points=20)
    ran_it["labs"][0].update(points=60, max_points=60, not_run_points=0)
    for student, result in (("ada", passing[2]), ("ben", failing[2]), ("cy", ran_it)):
        (results / f"{student}.json").write_text(json.dumps({**result, "cohort": {"student": student}}))
    done = run_labkit("cohort", "report", str(results), "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["student"], r["max_points"], r["not_run_points"], r["missing-tool"], r["verdict"]) for r in rows] == [
        ("ada", "40", "20", "not run", "passed"),
        ("ben", "40", "20", "not run", "failed"),
        ("cy", "60", "0", "20", "passed"),
    ]
    html = run_labkit("cohort", "report", str(results), "--format", "html").stdout
    assert '<span class="meta">(20 not run)</span>' in html
    assert "<title>missing-tool: 100</title>" in html, "passed wherever it ran: submissions it did not run for left out"


def test_doctor_lists_what_this_machine_lacks_for_each_lab(kit: Path) -> None:
    done = run_labkit("doctor", env={"LABKIT_HOME": str(kit), "DOCKER_HOST": NO_ENGINE, "COLUMNS": "300"})
    assert done.returncode in (0, 1), done.stderr
    lines = [" ".join(line.replace("│", " ").split()) for line in done.stdout.splitlines()]
    assert f"{LAB} command:labkit-no-such-tool-xyz no {MISSING}; would not run: stage 2 missing-tool" in lines
    shell = next(line for line in lines if line.startswith(f"{LAB} command:sh "))
    assert shell.startswith(f"{LAB} command:sh ok at /"), shell


def test_a_docker_requirement_without_an_engine_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    presence.cache_clear()
    try:
        found = presence(Requirement("docker"))
    finally:
        presence.cache_clear()
    assert not found.met
    assert found.detail.startswith("Docker engine not reachable")


@pytest.mark.parametrize("sandboxed", [False, True], ids=["process", "docker-sandbox"])
def test_a_cores_requirement_counts_the_cores_the_program_gets(
    monkeypatch: pytest.MonkeyPatch, sandboxed: bool
) -> None:
    monkeypatch.delenv("LABKIT_SANDBOX_POD", raising=False)
    if sandboxed:  # as labkit sets it for its grader under --sandbox docker, each program limited to 1 CPU
        monkeypatch.setenv("LABKIT_SANDBOX_POD", "labkit-pod-test")
        monkeypatch.setenv("LABKIT_SANDBOX_CPUS", "1.5")
    here = 1 if sandboxed else len(os.sched_getaffinity(0))
    reset_settings()
    presence.cache_clear()
    try:
        enough, too_many = presence(Requirement("cores", str(here))), presence(Requirement("cores", str(here + 1)))
    finally:
        presence.cache_clear()
        monkeypatch.undo()
        reset_settings()
    assert enough.met and enough.detail.startswith(f"{here} core")
    assert not too_many.met and too_many.detail.startswith(f"only {here} core")
    assert ("LABKIT_SANDBOX_CPUS" in too_many.detail) is sandboxed


def test_the_sandbox_gives_a_lab_the_cores_its_stages_need() -> None:
    from labkit.catalog import load_catalog
    from labkit.engine import sandbox_cores_env
    from support import KIT

    catalog = load_catalog(KIT)
    needy = next(lab for lab in catalog.labs if any(r.kind == "cores" for s in lab.stages for r in s.requires))
    content = next(lab for lab in catalog.labs if not any(s.requires for s in lab.stages))
    wanted = max(int(r.name) for s in needy.stages for r in s.requires if r.kind == "cores")
    given = str(min(wanted, len(os.sched_getaffinity(0))))
    assert sandbox_cores_env(needy, {}) == {"LABKIT_SANDBOX_CPUS": given}
    assert sandbox_cores_env(needy, {"LABKIT_SANDBOX_CPUS": "1"}) == {}, "a user's own setting stands"
    assert sandbox_cores_env(content, {}) == {}, "a lab that needs no cores keeps the default of one"
