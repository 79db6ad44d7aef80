"""checkov, the policy scanner, run from its own pinned environment (`labkit tools install checkov`).

A stage that uses it declares ``requires = ["tool:checkov"]``: where checkov is not installed the stage is reported
as not run and ``scan`` is never called. What ``scan`` returns is parsed from checkov's JSON report. A crash, a
report that is not JSON, a file checkov cannot parse or a run past its timeout is a HarnessError: the grading
machine's problem, never the learner's zero.

    findings = scan(folder, frameworks=["dockerfile"], checks=["CKV_DOCKER_1"]).findings
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit import fieldtools
from labkit.errors import HarnessError

TOOL = fieldtools.TOOLS["checkov"]
TIMEOUT_S = 120.0
SHOWN = 300  # characters of checkov's output quoted in an error


@dataclass(frozen=True)
class CheckovFinding:
    check_id: str  # CKV_DOCKER_1
    name: str  # checkov's title of the check
    file: str  # relative to the folder scanned, with / separators
    line: int  # the first line of the resource or instruction; 0 when checkov names none
    resource: str  # checkov's name for what it checked: "Deployment.default.notes", "aws_db_instance.db"
    guideline: str | None  # checkov's guideline for the check, when it has one
    suppressed: bool  # a `checkov:skip` comment asked to skip it: found all the same


@dataclass(frozen=True)
class CheckovReport:
    findings: list[CheckovFinding]  # in file and line order
    passed: int  # checks that passed on some resource
    version: str


def scan(
    folder: Path, *, frameworks: Sequence[str], checks: Sequence[str], timeout: float = TIMEOUT_S
) -> CheckovReport:
    """Runs ``checks`` of ``frameworks`` on every file under ``folder``. A check silenced by a comment in a file
    (``# checkov:skip=...``) counts as found: the grader's list of checks is not the learner's to change."""
    if not checks or not frameworks:
        raise ValueError("scan needs at least one framework and one check")
    args = [
        *("--directory", "."),  # run in ``folder``: every path in the report is relative to it
        *("--framework", *frameworks),
        *("--check", ",".join(checks)),
        *("--output", "json"),
        "--soft-fail",  # found problems are in the report; any other exit code is a crash
        "--skip-download",  # offline: no guidelines or policies fetched from a platform
        "--compact",
    ]
    run = fieldtools.run(TOOL, args, cwd=folder, timeout=timeout, env={"LOG_LEVEL": "ERROR"})
    if run.exit_code != 0:
        raise HarnessError(f"checkov stopped with exit code {run.exit_code}: {_tail(run.stderr or run.stdout)}")
    try:
        parsed = json.loads(run.stdout)
    except json.JSONDecodeError:
        raise HarnessError(f"checkov's report is not JSON: {run.stdout[:SHOWN]!r} {_tail(run.stderr)}") from None
    return _report(parsed if isinstance(parsed, list) else [parsed], folder)


def _report(parts: Iterable[Any], folder: Path) -> CheckovReport:
    findings: list[CheckovFinding] = []
    passed = 0
    version = ""
    try:
        for part in parts:
            if "results" not in part:  # checkov's summary alone: it found no file of these frameworks
                version = version or str(part.get("checkov_version", ""))
                continue
            results = part["results"]
            version = version or str(part.get("summary", {}).get("checkov_version", ""))
            if results.get("parsing_errors"):
                raise HarnessError(f"checkov could not parse {', '.join(map(str, results['parsing_errors']))}")
            passed += len(results.get("passed_checks", []))
            findings += [_finding(item, folder, suppressed=False) for item in results.get("failed_checks", [])]
            findings += [_finding(item, folder, suppressed=True) for item in results.get("skipped_checks", [])]
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise HarnessError(f"checkov's report has an unexpected shape ({type(error).__name__}: {error})") from None
    findings.sort(key=lambda f: (f.file, f.line, f.check_id, f.resource))
    return CheckovReport(findings, passed, version)


def _finding(item: dict[str, Any], folder: Path, *, suppressed: bool) -> CheckovFinding:
    lines = item.get("file_line_range") or [0]
    file = _relative(item, folder)
    return CheckovFinding(
        check_id=str(item["check_id"]),
        name=str(item.get("check_name", "")),
        file=file,
        line=int(lines[0]),
        resource=str(item.get("resource", "")).removeprefix(f"/{file}."),  # a Dockerfile's: "/Dockerfile.ENV"
        guideline=item.get("guideline") or None,
        suppressed=suppressed,
    )


def _relative(item: dict[str, Any], folder: Path) -> str:
    """The file's path relative to the folder scanned; checkov's own ``file_path`` starts with a slash."""
    absolute = Path(str(item.get("file_abs_path") or ""))
    if absolute.is_absolute() and absolute.is_relative_to(folder.resolve()):
        return absolute.relative_to(folder.resolve()).as_posix()
    return str(item.get("file_path", "")).lstrip("/")


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= SHOWN else "…" + text[-SHOWN:]
