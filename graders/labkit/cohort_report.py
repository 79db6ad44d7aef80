"""Merging result files into a cohort report: per-student scores, per-stage pass rates, the score distribution
and the checks that fail most, with their most common failure messages. CSV for spreadsheets, HTML to read.

Result files are what `labkit grade --format json` writes (`labkit cohort grade` writes one per submission, and a
CI matrix or a Kubernetes job can write them too); the student is the ``cohort.student`` field or the file name.
A stage that was not run for a submission (its grading machine lacked a requirement) is left out of that
submission's maximum and of the stage's pass rate, and shown as "not run".
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from labkit.errors import HarnessError
from labkit.writers.html_page import bar_chart, page, table

DISTRIBUTION_BINS = 10
TOP_FAILED_CHECKS = 10
VOLATILE_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class StudentLab:
    student: str
    lab: dict[str, Any]

    @property
    def percent(self) -> float:
        return 100.0 * self.lab["points"] / self.lab["max_points"] if self.lab["max_points"] else 0.0

    @property
    def verdict(self) -> str:
        if self.lab.get("error") or any(
            check["status"] == "error" for stage in self.lab["stages"] for check in stage["checks"]
        ):
            return "harness error"
        return "passed" if self.lab["passed"] else "failed"

    @property
    def not_run_points(self) -> int:
        return int(self.lab.get("not_run_points", 0))

    @property
    def first_failed_stage(self) -> str:
        for stage in self.lab["stages"]:
            if stage["status"] in ("failed", "timeout", "error"):
                return str(stage["slug"])
        return ""


def load_results(paths: list[Path]) -> list[StudentLab]:
    """Reads result files, or every *.json in the folders given; unreadable files are a clear usage error."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise HarnessError("no result files found; give JSON files or folders that contain them")
    rows = []
    for file in files:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            student = str(data.get("cohort", {}).get("student") or file.stem)
            rows += [StudentLab(student, lab) for lab in data["labs"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise HarnessError(f"{file} is not a labkit result file: {error}") from error
    return sorted(rows, key=lambda row: (row.lab["id"], row.student))


def render_csv(rows: list[StudentLab]) -> str:
    stage_slugs = _stage_slugs(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["student", "lab", "points", "max_points", "percent", "verdict", "first_failed_stage", "not_run_points",
         *stage_slugs]
    )  # fmt: skip
    for row in rows:
        by_slug = {stage["slug"]: _stage_cell(stage) for stage in row.lab["stages"]}
        writer.writerow(
            [
                row.student, row.lab["id"], row.lab["points"], row.lab["max_points"], f"{row.percent:.1f}",
                row.verdict, row.first_failed_stage, row.not_run_points,
                *[by_slug.get(slug, "") for slug in stage_slugs],
            ]
        )  # fmt: skip
    return out.getvalue()


def render_html_report(rows: list[StudentLab]) -> str:
    parts = ["<h1>labkit cohort report</h1>", f'<p class="meta">{len(rows)} graded submissions</p>']
    for lab_id in sorted({row.lab["id"] for row in rows}):
        parts += _lab_section(lab_id, [row for row in rows if row.lab["id"] == lab_id])
    return page("labkit cohort report", "\n".join(parts))


def _lab_section(lab_id: str, rows: list[StudentLab]) -> list[str]:
    title = rows[0].lab["title"]
    mean = sum(row.percent for row in rows) / len(rows)
    parts = [f"<h2>{escape(lab_id)} — {escape(title)}</h2>", f'<p class="meta">mean score {mean:.1f}%</p>']

    labels = [f"{i * 10}–{i * 10 + 9}" if i < DISTRIBUTION_BINS - 1 else "90–100" for i in range(DISTRIBUTION_BINS)]
    counts = [0] * DISTRIBUTION_BINS
    for row in rows:
        counts[min(int(row.percent // 10), DISTRIBUTION_BINS - 1)] += 1
    parts += ["<h3>Score distribution (%)</h3>", bar_chart(f"{lab_id} score distribution", labels, counts)]

    slugs = _stage_slugs(rows)
    rates = []
    for slug in slugs:
        statuses = [stage["status"] for row in rows for stage in row.lab["stages"] if stage["slug"] == slug]
        ran = len(rows) - statuses.count("not_run")
        rates.append(round(100 * statuses.count("passed") / ran) if ran else 0)
    chart = bar_chart(f"{lab_id} stage pass rates", slugs, rates)
    parts += ["<h3>Stage pass rates (% of the submissions it ran for)</h3>", chart]

    student_rows = [
        [escape(row.student), _points(row), f"{row.percent:.1f}", escape(row.verdict), escape(row.first_failed_stage)]
        for row in sorted(rows, key=lambda row: (-row.percent, row.student))
    ]  # fmt: skip
    parts += ["<h3>Students</h3>", table(["student", "points", "%", "verdict", "first failed stage"], student_rows,
                                         numeric=frozenset({1, 2}))]  # fmt: skip
    parts += ["<h3>Most failed checks</h3>", _most_failed(rows)]
    return parts


def _most_failed(rows: list[StudentLab]) -> str:
    failures: Counter[tuple[str, str]] = Counter()
    messages: dict[tuple[str, str], Counter[str]] = {}
    for row in rows:
        for stage in row.lab["stages"]:
            for check in stage["checks"]:
                if check["status"] in ("failed", "timeout"):
                    key = (stage["slug"], check["name"])
                    failures[key] += 1
                    first_line = (check["message"] or "").splitlines()[0] if check["message"] else "(no message)"
                    messages.setdefault(key, Counter())[VOLATILE_NUMBER.sub("N", first_line)] += 1
    if not failures:
        return "<p>No check failed.</p>"
    body = []
    for (slug, name), count in failures.most_common(TOP_FAILED_CHECKS):
        common = messages[(slug, name)].most_common(2)
        shown = "<br>".join(f'{escape(text)} <span class="meta">×{n}</span>' for text, n in common)
        body.append([escape(slug), escape(name), str(count), shown])
    return table(["stage", "check", "failed", "most common messages"], body, numeric=frozenset({2}))


def _stage_cell(stage: dict[str, Any]) -> object:
    return "not run" if stage["status"] == "not_run" else stage["points"]


def _points(row: StudentLab) -> str:
    text = f"{row.lab['points']:g}/{row.lab['max_points']}"
    return text + (f' <span class="meta">({row.not_run_points} not run)</span>' if row.not_run_points else "")


def _stage_slugs(rows: list[StudentLab]) -> list[str]:
    slugs: list[str] = []
    for row in rows:
        for stage in row.lab["stages"]:
            if stage["slug"] not in slugs:
                slugs.append(stage["slug"])
    return slugs
