"""The kit proves itself: every solution earns full marks, every starter fails cleanly."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from labkit.catalog import Lab, load_catalog
from support import KIT, SCHEMA, grade_json, pristine_starter, stages_that_cannot_run_here
from throwaway import ThrowawayKit

CATALOG = load_catalog(KIT)
ALL_AT_ONCE = ("tcp-kv", "wire-formats", "concurrency")  # a server, a driver and a client, for `grade --all`


@pytest.mark.parametrize("lab", CATALOG.labs, ids=lambda lab: lab.id)
def test_solution_earns_full_marks(lab: Lab) -> None:
    code, result = grade_json(lab.id, lab.solution_folder)
    jsonschema.validate(result, json.loads(SCHEMA.read_text()))
    summary = result["labs"][0]
    failures = not_passed(summary, stages_that_cannot_run_here(lab.id))
    assert failures == [], failures
    assert (code, summary["points"], summary["passed"]) == (0, summary["max_points"], True)


def not_passed(summary: dict[str, Any], cannot_run: dict[str, str]) -> list[dict[str, Any]]:
    """Checks that did not pass, except those of a stage this machine cannot run, reported as not run."""
    return [
        check
        for stage in summary["stages"]
        for check in stage["checks"]
        if check["status"] != "passed" and not (stage["slug"] in cannot_run and check["status"] == "not_run")
    ]


ALTERNATIVES = sorted(path for path in (KIT / "tests" / "alternatives").glob("*/*") if path.is_dir())


@pytest.mark.parametrize("impl", ALTERNATIVES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_alternative_correct_design_earns_full_marks(impl: Path) -> None:
    """Correct implementations built differently from the reference pass too: checks test behaviour."""
    code, result = grade_json(impl.parent.name, impl)
    summary = result["labs"][0]
    failures = not_passed(summary, stages_that_cannot_run_here(impl.parent.name))
    assert (code, failures) == (0, [])


@pytest.mark.parametrize("lab", CATALOG.labs, ids=lambda lab: lab.id)
def test_starter_fails_stage_one_cleanly(lab: Lab, tmp_path: Path) -> None:
    code, result = grade_json(lab.id, pristine_starter(lab.id, tmp_path))
    summary = result["labs"][0]
    assert code == 1, "a starter must fail as the learner's fault (exit 1), never as a harness error (exit 2)"
    first = summary["stages"][0]
    assert first["status"] == "failed"
    # A stage this machine cannot run (no Docker engine) is reported as not run, never as a rung of the ladder.
    assert all(s["status"] in ("skipped", "not_run") for s in summary["stages"][1:]), "the ladder stops at stage 1"
    failed = [c for c in first["checks"] if c["status"] == "failed"]
    assert failed and all(c["message"] and "harness error" not in c["message"] for c in failed)
    assert "Traceback (most recent call last)" not in json.dumps(result["labs"][0]["error"])
    assert "driver_main.py" not in json.dumps(failed), "no frame of the harness in what the learner reads"
    for check in failed:
        if "raised NotImplementedError" in check["message"]:  # the starter's stub, said as plainly in every lab
            assert "Traceback" not in (check["got"] or "") and "stub" in check["hint"], check


def test_grade_all_starters_as_junit(tmp_path: Path) -> None:
    """`grade --all --impl-root` over one folder per lab, reported as JUnit, in a kit of three labs of three kinds
    (a server, a driver, a client). Each starter fails stage 1; every lab's starter and solution are graded on their
    own above, so grading all of them a second time here would prove nothing more."""
    labs = [CATALOG.get(lab_id) for lab_id in ALL_AT_ONCE]
    kit = ThrowawayKit(tmp_path / "kit").copy_checkout("graders", *(f"labs/{lab.id}" for lab in labs))
    for lab in labs:
        pristine_starter(lab.id, tmp_path)
    done = kit.labkit(
        "grade", "--all", "--impl-root", str(tmp_path / "labs"), "--format", "junit", "--seed", "7"
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    root = ET.fromstring(done.stdout)
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    first_stages = {f"{lab.id}.01-{lab.stages[0].slug}" for lab in labs}
    assert first_stages <= set(suites)
    assert {name.split(".")[0] for name in suites} == set(ALL_AT_ONCE), "--all grades every lab of the kit"
    for name in first_stages:
        assert suites[name].findall(".//failure"), f"{name}: a starter fails its first stage"
    assert not root.findall(".//error"), "a starter's failure is the learner's, never a harness error"
