"""A lab's requirement trace: every rule its README states, and the checks that exercise it.

The trace lives next to the grader, in ``graders/<lab>/trace.toml``::

    [[rule]]
    id = "oversize-frame"                     # unique in the lab
    section = "Errors"                        # where the README states it
    rule = "length > MAX_FRAME gets ERROR, then the connection is closed"
    checks = ["limits/check_oversize_headers"]  # stage slug / check function

    [[rule]]
    id = "no-persistence"
    section = "Store"
    rule = "Nothing is persisted"
    unchecked = "a store that also writes a file behaves the same from outside"

A rule names the checks that exercise it, or says why no outside check can (``unchecked``); never both, never
neither. Every check of the lab is named by at least one rule, so a check with no rule behind it stands out too.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from labkit.catalog import Lab, read_toml
from labkit.errors import LabConfigError

TRACE_FILE = "trace.toml"


@dataclass(frozen=True)
class Rule:
    id: str
    section: str
    rule: str
    checks: tuple[str, ...] = ()
    unchecked: str | None = None  # why no check from outside can exercise this rule


@dataclass(frozen=True)
class Trace:
    lab_id: str
    rules: tuple[Rule, ...]

    @property
    def checked(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.checks]

    def problems(self, check_ids: set[str]) -> list[str]:
        """Everything that keeps this trace from being complete and true, one sentence each."""
        found: list[str] = []
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                found.append(f"rule {rule.id!r} is listed twice")
            seen.add(rule.id)
            if bool(rule.checks) == bool(rule.unchecked):
                found.append(f"rule {rule.id!r} must name its checks or say why it is unchecked (one of the two)")
            found += [f"rule {rule.id!r} names {check!r}, which is no check of the lab" for check in rule.checks
                      if check not in check_ids]  # fmt: skip
        named = {check for rule in self.rules for check in rule.checks}
        found += [f"check {check!r} exercises no rule of the trace" for check in sorted(check_ids - named)]
        return found


def trace_path(lab: Lab) -> Path:
    return lab.grader_folder / TRACE_FILE


def load_trace(lab: Lab) -> Trace | None:
    """The lab's trace, or None when it has none yet; a malformed file is a LabConfigError naming the rule."""
    path = trace_path(lab)
    if not path.is_file():
        return None
    raw = read_toml(path).get("rule", [])
    if not isinstance(raw, list):
        raise LabConfigError(f"{path}: [[rule]] tables expected")
    return Trace(lab.id, tuple(_parse_rule(entry, f"{path} rule {number}") for number, entry in enumerate(raw, 1)))


def _parse_rule(entry: object, where: str) -> Rule:
    if not isinstance(entry, dict):
        raise LabConfigError(f"{where}: a table expected")
    unknown = set(entry) - {"id", "section", "rule", "checks", "unchecked"}
    if unknown:
        raise LabConfigError(f"{where}: unknown keys {sorted(unknown)}")
    texts = {key: entry.get(key) for key in ("id", "section", "rule")}
    for key, value in texts.items():
        if not isinstance(value, str) or not value.strip():
            raise LabConfigError(f"{where}: {key!r} must be a non-empty string")
    checks = entry.get("checks", [])
    if not isinstance(checks, list) or not all(isinstance(check, str) for check in checks):
        raise LabConfigError(f"{where} ({texts['id']}): 'checks' must be a list of 'stage/check_name' strings")
    unchecked = entry.get("unchecked")
    if unchecked is not None and (not isinstance(unchecked, str) or not unchecked.strip()):
        raise LabConfigError(f"{where} ({texts['id']}): 'unchecked' must say why, in words")
    return Rule(str(texts["id"]), str(texts["section"]), str(texts["rule"]), tuple(checks), unchecked)


def check_ids(lab: Lab) -> set[str]:
    """Every check of the lab as ``stage-slug/function``, read from the stage modules without importing them."""
    ids: set[str] = set()
    for stage in lab.stages:
        module = lab.grader_folder / stage.module_name
        if not module.is_file():
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
        ids |= {f"{stage.slug}/{node.name}" for node in tree.body
                if isinstance(node, ast.FunctionDef) and node.name.startswith(("check_", "test_"))}  # fmt: skip
    return ids
