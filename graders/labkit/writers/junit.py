"""JUnit XML: one testsuite per stage, one testcase per check, as CI systems expect.

A check's artifacts are named in its ``system-out`` as ``[[ATTACHMENT|path]]``, the convention Jenkins'
junit-attachments and GitLab's test reports read; the path is relative to the current folder when below it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from labkit.results import CheckResult, RunResult, Status
from labkit.writers.common import artifact_location, failure_text


def render_junit(run: RunResult) -> str:
    root = ET.Element("testsuites", name="labkit", time=f"{run.duration_s:.3f}")
    for lab in run.labs:
        for stage in lab.stages:
            suite = ET.SubElement(
                root,
                "testsuite",
                name=f"{lab.id}.{stage.index:02d}-{stage.slug}",
                tests=str(len(stage.checks)),
                failures=str(_count(stage.checks, Status.FAILED, Status.TIMEOUT)),
                errors=str(_count(stage.checks, Status.ERROR)),
                skipped=str(_count(stage.checks, Status.SKIPPED, Status.NOT_RUN)),
                time=f"{sum(check.duration_s for check in stage.checks):.3f}",
            )
            for check in stage.checks:
                suite.append(_testcase(run, lab.id, stage.slug, check))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(run: RunResult, lab_id: str, stage_slug: str, check: CheckResult) -> ET.Element:
    case = ET.Element("testcase", classname=f"{lab_id}.{stage_slug}", name=check.name, time=f"{check.duration_s:.3f}")
    body = _xml_safe(failure_text(check))
    if check.status in (Status.FAILED, Status.TIMEOUT):
        ET.SubElement(case, "failure", message=check.message.splitlines()[0] if check.message else "").text = body
    elif check.status is Status.ERROR:
        ET.SubElement(case, "error", message=check.message.splitlines()[0] if check.message else "").text = body
    elif check.status in (Status.SKIPPED, Status.NOT_RUN):
        ET.SubElement(case, "skipped", message=check.message)
    ET.SubElement(case, "properties").append(
        ET.Element("property", name="points", value=f"{check.points:g}/{check.max_points:g}")
    )
    if check.artifacts:
        attachments = (f"[[ATTACHMENT|{artifact_location(run, artifact)}]]" for artifact in check.artifacts)
        ET.SubElement(case, "system-out").text = _xml_safe("\n".join(attachments))
    return case


def _xml_safe(text: str) -> str:
    """XML 1.0 forbids most control characters; learner output can contain anything."""
    return "".join(ch if ch in "\t\n\r" or ord(ch) >= 0x20 else f"\\x{ord(ch):02x}" for ch in text)


def _count(checks: list[CheckResult], *statuses: Status) -> int:
    return sum(1 for check in checks if check.status in statuses)
