"""How a scenario's verdict is compared with its recorded one: exactly, or for a timing-dependent bug by stage and
check statuses, with the checks it names in ``either`` allowed to pass or fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.errors import LabConfigError
from labkit.scenarios import Scenario, comparable, find_scenarios, not_caught_as_intended

RECORDED = """score 30/100
stage 1 first: passed
stage 2 second: failed
  failed  second/check_idle
    message: moved 900 bytes
    hint: wait
  passed  second/check_writes
  failed  second/check_reads
stage 3 third: skipped
"""


def scenario(why: str | None = None, either: tuple[str, ...] = ()) -> Scenario:
    return Scenario("lab", "bug", Path("bug"), "second", "a bug", why, either)


def with_statuses(writes: str, reads: str, score: str = "30", message: str = "moved 900 bytes") -> str:
    changed = RECORDED.replace("passed  second/check_writes", f"{writes:<7} second/check_writes")
    changed = changed.replace("failed  second/check_reads", f"{reads:<7} second/check_reads")
    return changed.replace("score 30/", f"score {score}/").replace("moved 900 bytes", message)


def test_an_exact_scenario_is_compared_whole() -> None:
    exact = scenario()
    assert comparable(RECORDED, exact) == RECORDED
    assert comparable(with_statuses("passed", "failed", message="moved 901 bytes"), exact) != comparable(
        RECORDED, exact
    )


def test_a_timing_dependent_scenario_ignores_messages_but_not_statuses() -> None:
    timed = scenario("heartbeats vary")
    assert comparable(with_statuses("passed", "failed", message="moved 4000 bytes"), timed) == comparable(
        RECORDED, timed
    )
    assert comparable(with_statuses("failed", "failed", score="25"), timed) != comparable(RECORDED, timed)


def test_either_lets_only_the_named_checks_pass_or_fail() -> None:
    varies = scenario("heartbeats vary", either=("second/check_writes",))
    for writes in ("passed", "failed"):
        assert comparable(with_statuses(writes, "failed", score="25"), varies) == comparable(RECORDED, varies)
    assert comparable(with_statuses("passed", "passed", score="35"), varies) != comparable(RECORDED, varies)
    assert comparable(with_statuses("skipped", "failed"), varies) != comparable(RECORDED, varies)
    assert "stage 2 second: failed" in comparable(RECORDED, varies)


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ('either = ["second/check_writes"]', "needs `timing_dependent`"),
        ('timing_dependent = "why"\neither = "second/check_writes"', "is a list of check ids"),
    ],
)
def test_a_malformed_either_is_a_clear_error(tmp_path: Path, lines: str, problem: str) -> None:
    folder = tmp_path / "tests" / "scenarios" / "lab" / "bug"
    folder.mkdir(parents=True)
    (folder / "scenario.toml").write_text(f'description = "a bug"\nstage = "second"\n{lines}\n')
    with pytest.raises(LabConfigError, match=problem):
        find_scenarios(tmp_path)


def test_a_scenario_caught_at_another_stage_says_which_checks_failed_there() -> None:
    def check(name: str, status: str, message: str = "") -> dict[str, str]:
        return {"id": f"first/{name}", "status": status, "message": message}

    stages = [
        {"slug": "first", "status": "failed", "checks": [check("a", "passed"), check("b", "failed", "too late\nmore")]},
        {"slug": "second", "status": "skipped", "checks": []},
    ]
    problem = not_caught_as_intended(scenario(), 1, {"labs": [{"stages": stages}]})
    assert problem == "a bug: caught at first, not second\n  first/b failed: too late\nmore"
