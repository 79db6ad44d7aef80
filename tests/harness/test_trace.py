"""Requirement traces (graders/<lab>/trace.toml): what makes one incomplete or untrue, said in one sentence each."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.catalog import load_catalog
from labkit.errors import LabConfigError
from labkit.trace import Rule, Trace, check_ids, load_trace
from throwaway import ThrowawayKit, write

STAGE = """
def check_one(driver):
    pass


def check_two(driver):
    pass


def helper_not_a_check():
    pass
"""


def test_every_problem_of_a_trace_is_named() -> None:
    trace = Trace("lab", (
        Rule("a", "S", "rule a", checks=("first/check_one",)),
        Rule("a", "S", "the same id again", unchecked="a reason"),
        Rule("b", "S", "neither checks nor a reason"),
        Rule("c", "S", "both", checks=("first/check_one",), unchecked="a reason"),
        Rule("d", "S", "a check that does not exist", checks=("first/check_three",)),
    ))  # fmt: skip
    assert trace.problems({"first/check_one", "first/check_two"}) == [
        "rule 'a' is listed twice",
        "rule 'b' must name its checks or say why it is unchecked (one of the two)",
        "rule 'c' must name its checks or say why it is unchecked (one of the two)",
        "rule 'd' names 'first/check_three', which is no check of the lab",
        "check 'first/check_two' exercises no rule of the trace",
    ]


def test_checks_are_read_from_the_stage_modules_without_importing_them(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).lab(
        "demo", "none", stages={"first-stage": STAGE + "\nraise SystemExit('never imported')\n"}
    )
    lab = load_catalog(kit.root).get("demo")
    assert check_ids(lab) == {"first-stage/check_one", "first-stage/check_two"}


def test_a_malformed_trace_is_a_lab_error_that_names_the_rule(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).lab("demo", "none", stages={"first": STAGE})
    lab = load_catalog(kit.root).get("demo")
    assert load_trace(lab) is None
    path = lab.grader_folder / "trace.toml"
    write(path, '[[rule]]\nid = "a"\nsection = "S"\nrule = "r"\nchecks = "first/check_one"\n')
    with pytest.raises(LabConfigError, match=r"rule 1 \(a\): 'checks' must be a list"):
        load_trace(lab)
    write(path, '[[rule]]\nid = "a"\nsection = "S"\nrule = "r"\nchecked = ["first/check_one"]\n')
    with pytest.raises(LabConfigError, match="unknown keys"):
        load_trace(lab)
    write(path, '[[rule]]\nid = "a"\nsection = "S"\nrule = "r"\nunchecked = " "\n')
    with pytest.raises(LabConfigError, match="must say why"):
        load_trace(lab)
    write(path, '[[rule]]\nid = "a"\nsection = "S"\nrule = "r"\nchecks = ["first/check_one", "first/check_two"]\n')
    trace = load_trace(lab)
    assert trace is not None and trace.problems(check_ids(lab)) == []


def test_labkit_trace_prints_the_rules_and_fails_on_a_problem(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).lab("demo", "none", stages={"first": STAGE})
    assert kit.labkit("trace", "demo").returncode == 2  # no trace yet: a usage error that says what to write
    write(kit.root / "graders" / "demo" / "trace.toml",
          '[[rule]]\nid = "a"\nsection = "S"\nrule = "r"\nchecks = ["first/check_one"]\n')  # fmt: skip
    done = kit.labkit("trace", "demo")
    assert done.returncode == 1
    assert "first/check_one" in done.stdout and "'first/check_two' exercises no rule" in done.stderr
