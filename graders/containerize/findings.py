"""Findings: what a rule found wrong, where, and what to change. Every failure this lab reports is a list of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from labkit.checks import fail


@dataclass(frozen=True)
class Finding:
    rule: str  # a hadolint code (DL3025), a checkov check (CKV_K8S_16), kubernetes-validate, or this lab's (CZ103)
    file: str  # relative to the implementation folder
    line: int  # 1-based; 0 when the finding is about the whole file
    problem: str
    change: str  # what to do about it

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.rule} {where}: {self.problem}\n    change: {self.change}"


def expect_no_findings(found: Iterable[Finding], what: str, hint: str = "") -> None:
    """Fails the check with every finding, in file and line order, or passes when there is none."""
    findings = sorted(set(found), key=lambda f: (f.file, f.line, f.rule, f.problem))
    if not findings:
        return
    listed = "\n".join(f"  {finding.render()}" for finding in findings)
    count = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
    fail(f"{what}: {count}\n{listed}", hint=hint or _where_explained(findings[0].rule))


def _where_explained(rule: str) -> str:
    if rule.startswith("DL"):
        return f"hadolint's wiki explains each rule: https://github.com/hadolint/hadolint/wiki/{rule}"
    if rule.startswith("CZ"):
        return f"README.md explains each rule ({rule}) and what passes it"
    if rule.startswith(("CKV_", "CKV2_")):
        return f"README.md lists the checkov checks this lab runs ({rule} among them) and what passes each"
    return "kubectl explain <kind>.<field> (or the Kubernetes API reference) gives every field's exact name and type"
