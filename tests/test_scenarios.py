"""Every broken implementation is caught at its intended stage, with the message recorded in its fixture.

After an intended change of wording, re-record with `labkit record LAB` (or `labkit record LAB/SCENARIO`), which
grades and judges a scenario exactly as this test does, and review the diff it prints.
"""

from __future__ import annotations

import pytest

from labkit.scenarios import as_with_every_requirement, comparable, not_caught_as_intended
from support import (
    RECORD,
    Scenario,
    grade_json,
    scenarios,
    stages_that_cannot_run_here,
    verdict_summary,
)


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.id)
def test_scenario_is_caught_at_its_stage(scenario: Scenario) -> None:
    cannot_run = stages_that_cannot_run_here(scenario.lab)
    if reason := cannot_run.get(scenario.stage):
        pytest.skip(f"its stage {scenario.stage} cannot run here: {reason}")
    code, result = grade_json(scenario.lab, scenario.folder)
    problem = not_caught_as_intended(scenario, code, result)
    assert problem is None, problem
    summary = verdict_summary(as_with_every_requirement(result, cannot_run))
    if RECORD or not scenario.fixture.exists():
        if not RECORD:
            pytest.fail(f"no recorded fixture {scenario.fixture}; record with `labkit record {scenario.id}`")
        scenario.fixture.write_text(summary, encoding="utf-8")
    recorded = scenario.fixture.read_text(encoding="utf-8")
    if scenario.timing_dependent:
        # The stage and every check's status must still match (but those of `either`); the first message may vary
        # (the reason is given).
        assert "message: " in summary, "a failure without a message for the learner"
        assert comparable(summary, scenario) == comparable(recorded, scenario), scenario.timing_dependent
    else:
        assert summary == recorded
