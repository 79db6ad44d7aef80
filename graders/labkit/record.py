"""`labkit record`: grade broken scenarios and record their verdicts, as the kit's scenario test checks them.

A scenario is graded with the seed and services provider of ``labkit.scenarios``, judged by the same rules as
``tests/test_scenarios.py`` (caught as the learner's failure, first at its stage, with no harness error), and
summarised by the same function; a scenario that is not caught as intended is reported, never recorded.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from labkit.catalog import Catalog
from labkit.errors import LabConfigError
from labkit.grading import GradeOptions, grade_labs
from labkit.requirements import missing
from labkit.run_config import RunChoices
from labkit.scenarios import (
    SCENARIO_SEED,
    SCENARIO_SERVICES,
    Scenario,
    as_with_every_requirement,
    find_scenarios,
    not_caught_as_intended,
    verdict_summary,
)


@dataclass(frozen=True)
class Recorded:
    """One scenario after recording: the unified diff of its fixture ("" when unchanged), or why it was not
    recorded."""

    scenario: Scenario
    diff: str = ""
    problem: str | None = None


def select_scenarios(catalog: Catalog, target: str) -> list[Scenario]:
    """The scenarios ``LAB`` or ``LAB/SCENARIO`` names; an unknown lab or scenario is a usage error."""
    lab_id, _, name = target.partition("/")
    catalog.get(lab_id)  # an unknown lab says which labs there are
    chosen = [s for s in find_scenarios(catalog.root) if s.lab == lab_id and name in ("", s.name)]
    if not chosen:
        known = ", ".join(s.name for s in find_scenarios(catalog.root) if s.lab == lab_id) or "none"
        wanted = f"scenario {target!r}" if name else f"scenarios of {lab_id!r}"
        raise LabConfigError(f"no {wanted} under tests/scenarios/", hint=f"scenarios of {lab_id}: {known}")
    return chosen


def grade_scenario(catalog: Catalog, scenario: Scenario, console: Console) -> tuple[int, dict[str, Any]]:
    """Grades a scenario as `labkit grade LAB --impl FOLDER --format json` with the scenarios' seed and
    provider does; returns the exit code and the JSON results."""
    options = GradeOptions(RunChoices(seed=SCENARIO_SEED, services=SCENARIO_SERVICES), show_progress=False)
    run = grade_labs(catalog, [(catalog.get(scenario.lab), scenario.folder.resolve())], options, console)
    results: dict[str, Any] = json.loads(run.to_json())
    return run.exit_code, results


def record_scenario(catalog: Catalog, scenario: Scenario, console: Console) -> Recorded:
    """Grades ``scenario`` and writes its verdict summary to its fixture, if it was caught as intended. A stage
    this machine cannot run is recorded as a machine with every requirement reports it; a scenario caught at such
    a stage is not recorded here."""
    cannot_run = {
        stage.slug: reason
        for stage in catalog.get(scenario.lab).stages
        if stage.requires and (reason := missing(stage.requires)) is not None
    }
    if reason := cannot_run.get(scenario.stage):
        return Recorded(scenario, problem=f"its stage {scenario.stage} cannot run here: {reason}")
    code, results = grade_scenario(catalog, scenario, console)
    problem = not_caught_as_intended(scenario, code, results)
    if problem is not None:
        return Recorded(scenario, problem=problem)
    summary = verdict_summary(as_with_every_requirement(results, cannot_run), catalog.root)
    before = scenario.fixture.read_text(encoding="utf-8") if scenario.fixture.exists() else ""
    if summary == before:
        return Recorded(scenario)
    scenario.fixture.write_text(summary, encoding="utf-8")
    name = scenario.fixture.relative_to(catalog.root).as_posix()
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), summary.splitlines(keepends=True), f"a/{name}", f"b/{name}"
    )
    return Recorded(scenario, diff="".join(lines))


def record_all(
    catalog: Catalog, scenarios: list[Scenario], console: Console, progress: Callable[[str], None]
) -> list[Recorded]:
    """Records each scenario in turn, telling ``progress`` which one is being graded."""
    recorded = []
    for scenario in scenarios:
        progress(f"grading {scenario.id}…")
        recorded.append(record_scenario(catalog, scenario, console))
    return recorded


def report(recorded: list[Recorded]) -> tuple[str, int]:
    """What `labkit record` prints, and its exit code: 0 when every scenario was recorded, 1 when one was not
    caught as intended (its fixture is left as it was)."""
    parts = [item.diff for item in recorded if item.diff]
    if not parts:
        parts.append("no recorded verdict changed\n")
    problems = [item for item in recorded if item.problem is not None]
    parts += [f"NOT RECORDED {item.scenario.id}: {item.problem}\n" for item in problems]
    return "".join(parts), 1 if problems else 0
