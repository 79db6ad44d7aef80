"""Broken implementations and their recorded verdicts: ``tests/scenarios/<lab>/<bug>/``.

Each scenario folder holds a complete implementation with one bug, a ``scenario.toml`` (``description``, the
``stage`` that must catch it, ``timing_dependent`` when its first symptom varies between runs, and ``either``: the
checks after the first failure that a loaded machine may see pass or fail, each then compared as "either") and
``expected.txt``, the verdict summary a grading run must reproduce. The kit's scenario test and ``labkit record``
both judge a run with the functions here, so a fixture is recorded exactly as it is checked.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.errors import LabConfigError
from labkit.run_config import ServiceChoice

# How a scenario is graded: the same seed every time, and the embedded servers, whose messages the fixtures quote.
SCENARIO_SEED = 1
SCENARIO_SERVICES = ServiceChoice.EMBEDDED
NOT_FAILED = ("passed", "skipped", "not_run")  # stage statuses that are no failure of the implementation


@dataclass(frozen=True)
class Scenario:
    lab: str
    name: str
    folder: Path
    stage: str
    description: str
    timing_dependent: str | None = None  # why this bug's first symptom depends on timing; then only verdicts count
    # Checks after the first failure whose status depends on timing (timing_dependent says why).
    either: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.lab}/{self.name}"

    @property
    def fixture(self) -> Path:
        return self.folder / "expected.txt"


def scenarios_folder(kit_root: Path) -> Path:
    return kit_root / "tests" / "scenarios"


def find_scenarios(kit_root: Path) -> list[Scenario]:
    """Every scenario of the kit, ordered by lab and name."""
    found = []
    for toml_path in sorted(scenarios_folder(kit_root).glob("*/*/scenario.toml")):
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
            stage, description = data["stage"], data["description"]
        except (tomllib.TOMLDecodeError, KeyError) as error:
            raise LabConfigError(f"{toml_path}: needs valid TOML with `stage` and `description` ({error})") from error
        folder = toml_path.parent
        why, either = data.get("timing_dependent"), data.get("either", [])
        if either and not why:
            raise LabConfigError(f"{toml_path}: `either` needs `timing_dependent` to say why those checks vary")
        if not (isinstance(either, list) and all(isinstance(check, str) for check in either)):
            raise LabConfigError(f"{toml_path}: `either` is a list of check ids (stage/check_name)")
        found.append(Scenario(folder.parent.name, folder.name, folder, stage, description, why, tuple(either)))
    return found


def not_caught_as_intended(scenario: Scenario, exit_code: int, result: dict[str, Any]) -> str | None:
    """Why a grading run of ``scenario`` is not its verdict (None when it is): the run must fail as the learner's
    fault, first at the scenario's stage, with no check reported as a harness error."""
    lab = result["labs"][0]
    statuses = {stage["slug"]: stage["status"] for stage in lab["stages"]}
    first_failed = next((slug for slug, status in statuses.items() if status not in NOT_FAILED), None)
    if exit_code != 1:
        return f"expected exit 1 (learner failure), got {exit_code}: {lab.get('error') or statuses}"
    if first_failed != scenario.stage:
        return f"{scenario.description}: caught at {first_failed}, not {scenario.stage}" + failures_in(
            lab, first_failed
        )
    if any(check["status"] == "error" for stage in lab["stages"] for check in stage["checks"]):
        return "a broken implementation must never look like a harness error"
    return None


def failures_in(lab: dict[str, Any], slug: str | None) -> str:
    """The failed checks of stage ``slug``, with the start of each message: what a log needs to tell a chance
    failure from a real one."""
    stage = next((stage for stage in lab["stages"] if stage["slug"] == slug), None)
    failed = [check for check in (stage["checks"] if stage else []) if check["status"] not in NOT_FAILED]
    return "".join(f"\n  {check['id']} {check['status']}: {(check.get('message') or '')[:400]}" for check in failed)


def as_with_every_requirement(result: dict[str, Any], cannot_run: Collection[str]) -> dict[str, Any]:
    """A broken implementation's result as a machine with every requirement grades it, which is how verdicts are
    recorded. A stage of ``cannot_run`` that was not run here counts as passed, with its points, when it comes
    before the stage that failed (a scenario's earlier stages pass: where they can run, the scenario test checks
    it), and as skipped after it; its points are in the maximum either way."""
    if not cannot_run:
        return result
    copy: dict[str, Any] = json.loads(json.dumps(result))
    lab = copy["labs"][0]
    failed = False
    for stage in lab["stages"]:
        if stage["slug"] in cannot_run and stage["status"] == "not_run":
            stage["status"] = "skipped" if failed else "passed"
            lab["max_points"] += stage["max_points"]
            if not failed:
                lab["points"] = round(lab["points"] + stage["max_points"], 2)
                for check in stage["checks"]:
                    check["status"], check["points"] = "passed", check["max_points"]
        failed = failed or stage["status"] not in NOT_FAILED
    return copy


VOLATILE = [
    (re.compile(r"\b(port|PORT=|pid|ports?) \d+"), r"\1 <n>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"PORT=\d+"), "PORT=<port>"),
    (re.compile(r"/tmp/[\w./-]+"), "<tmp>"),
    # A server that crashes closes its sockets with FIN or RST depending on what was unread: a race, not a verdict.
    (re.compile(r"the connection was reset by your program|your program closed the connection"), "<closed or reset>"),
]
KIT_PATH_AT = 4  # where the kit's own path is replaced by <kit>: after temporary paths


def normalise(text: str, kit_root: Path) -> str:
    """``text`` without what changes from run to run: ports, pids, temporary and kit paths."""
    patterns = list(VOLATILE)
    patterns.insert(KIT_PATH_AT, (re.compile(re.escape(str(kit_root))), "<kit>"))
    for pattern, replacement in patterns:
        text = pattern.sub(replacement, text)
    return text


def verdict_summary(result: dict[str, Any], kit_root: Path) -> str:
    """The part of a run that must stay stable: stage verdicts, the failing stage's check statuses, and what a
    learner reads for its first failure."""
    lab = result["labs"][0]
    lines = [f"score {lab['points']:g}/{lab['max_points']}"]
    for stage in lab["stages"]:
        lines.append(f"stage {stage['index']} {stage['slug']}: {stage['status']}")
        if stage["status"] in NOT_FAILED:
            continue
        explained = False
        for check in stage["checks"]:
            lines.append(f"  {check['status']:<7} {check['id']}")
            # The first failure is what the learner acts on. Later checks of a broken program may fail in ways that
            # depend on timing (how TCP coalesced writes, when a crash landed), so only their status is recorded.
            if check["status"] != "passed" and not explained:
                explained = True
                lines.append("    message: " + check["message"].replace("\n", "\n             "))
                if check["hint"]:
                    lines.append(f"    hint: {check['hint']}")
    return normalise("\n".join(lines), kit_root) + "\n"


def without_messages(summary: str) -> str:
    """A verdict summary with only the score and statuses, for bugs whose first symptom depends on timing."""
    detail = ("    message: ", "    hint: ", "             ")
    return "".join(line for line in summary.splitlines(keepends=True) if not line.startswith(detail))


def comparable(summary: str, scenario: Scenario) -> str:
    """What of a verdict summary must match the recorded one: all of it, or for a timing-dependent bug the score
    and statuses only, with each of its ``either`` checks (and so the score) allowed to pass or fail."""
    if not scenario.timing_dependent:
        return summary
    lines = without_messages(summary).splitlines(keepends=True)
    if scenario.either:
        lines = [
            "score (varies: either)\n" if line.startswith("score ") else _either(line, scenario.either)
            for line in lines
        ]
    return "".join(lines)


def _either(line: str, either: tuple[str, ...]) -> str:
    status, _, check = line.strip().partition(" ")
    if check.strip() in either and status in ("passed", "failed"):
        return f"  {'either':<7} {check.strip()}\n"
    return line
