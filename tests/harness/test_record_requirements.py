"""A scenario verdict is recorded as a machine with every requirement grades it, on any machine: a stage this one
cannot run counts as passed before the stage that caught the bug and as skipped after it, its points in the
maximum. A scenario caught at such a stage is not recorded here, with the reason. Checked on a throwaway lab
whose middle stage needs a command no machine has, through the real `labkit record`."""

from __future__ import annotations

from pathlib import Path

from labkit.scenarios import as_with_every_requirement
from throwaway import ThrowawayKit

LAB = "needs"
MISSING = "command:labkit-no-such-tool-xyz"
LAB_TOML = f"""
id = "{LAB}"
title = "Requirements demo"
track = "test"
services = []
[run]
kind = "none"
[[stages]]
slug = "first"
title = "first"
points = 10
timeout = 10
[[stages]]
slug = "missing"
title = "missing"
points = 20
timeout = 10
requires = ["{MISSING}"]
[[stages]]
slug = "last"
title = "last"
points = 30
timeout = 10
[[stages]]
slug = "after"
title = "after"
points = 40
timeout = 10
requires = ["{MISSING}"]
"""
ANSWER_IS = '''
    from labkit.checks import expect_equal


    def check_answer(impl_dir):
        """answer.txt holds the answer"""
        expect_equal((impl_dir / "answer.txt").read_text().strip(), "{answer}", "the answer")
    '''


def kit_with_scenarios(folder: Path) -> ThrowawayKit:
    kit = ThrowawayKit(folder).lab(
        LAB,
        toml=LAB_TOML,
        stages={
            "first": ANSWER_IS.format(answer="4"),
            "missing": ANSWER_IS.format(answer="4"),
            "last": ANSWER_IS.format(answer="42"),
            "after": ANSWER_IS.format(answer="42"),
        },
    )
    for name, stage in (("caught-last", "last"), ("caught-missing", "missing")):
        scenario = kit.root / "tests" / "scenarios" / LAB / name
        scenario.mkdir(parents=True)
        (scenario / "answer.txt").write_text("4\n")
        (scenario / "scenario.toml").write_text(f'description = "the answer is 4"\nstage = "{stage}"\n')
    return kit


def test_record_counts_a_stage_it_cannot_run_as_a_machine_with_every_requirement(tmp_path: Path) -> None:
    kit = kit_with_scenarios(tmp_path)
    done = kit.labkit("record", LAB)
    assert done.returncode == 1, done.stdout + done.stderr
    recorded = (kit.root / "tests" / "scenarios" / LAB / "caught-last" / "expected.txt").read_text()
    assert recorded.splitlines()[:4] == [
        "score 30/100",
        "stage 1 first: passed",
        "stage 2 missing: passed",
        "stage 3 last: failed",
    ]
    assert recorded.splitlines()[-1] == "stage 4 after: skipped"
    assert "NOT RECORDED needs/caught-missing: its stage missing cannot run here: needs the command" in done.stdout
    assert not (kit.root / "tests" / "scenarios" / LAB / "caught-missing" / "expected.txt").exists()


def test_a_result_without_stages_that_were_not_run_is_left_as_it_is() -> None:
    result = {"labs": [{"points": 10, "max_points": 10, "stages": [{"slug": "a", "status": "failed"}]}]}
    assert as_with_every_requirement(result, {"b": "needs a Docker engine"}) == result
    assert as_with_every_requirement(result, {}) is result
