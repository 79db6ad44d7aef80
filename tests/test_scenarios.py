"""Every broken implementation is caught at its intended stage, with the message recorded in its fixture.

After an intended change of wording, re-record with
`LABKIT_RECORD=1 python -m pytest tests/test_scenarios.py` and review the diff.
"""

from __future__ import annotations

import pytest

from support import RECORD, Scenario, grade_json, scenarios, verdict_summary, without_messages


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.id)
def test_scenario_is_caught_at_its_stage(scenario: Scenario) -> None:
    code, result = grade_json(scenario.lab, scenario.folder)
    lab = result["labs"][0]
    statuses = {stage["slug"]: stage["status"] for stage in lab["stages"]}
    first_failed = next((slug for slug, status in statuses.items() if status not in ("passed", "skipped")), None)
    assert code == 1, f"expected exit 1 (learner failure), got {code}: {statuses}"
    assert first_failed == scenario.stage, f"{scenario.description}: caught at {first_failed}, not {scenario.stage}"
    assert not any(check["status"] == "error" for stage in lab["stages"] for check in stage["checks"]), (
        "a broken implementation must never look like a harness error"
    )
    summary = verdict_summary(result)
    if RECORD or not scenario.fixture.exists():
        if not RECORD:
            pytest.fail(f"no recorded fixture {scenario.fixture}; record with LABKIT_RECORD=1 and review it")
        scenario.fixture.write_text(summary, encoding="utf-8")
    recorded = scenario.fixture.read_text(encoding="utf-8")
    if scenario.timing_dependent:
        # The stage and every check's status must still match; the first message may vary (the reason is given).
        assert "message: " in summary, "a failure without a message for the learner"
        assert without_messages(summary) == without_messages(recorded), scenario.timing_dependent
    else:
        assert summary == recorded
