"""Gradescope's autograder ``results.json``: one test per check, with score, status, output and visibility.

Hidden checks are published only after grades are (``after_published``), and their output is the verdict alone.
A check that was not run (its stage requires what the machine lacks) has no status and a maximum of 0: Gradescope
then counts it neither as passed nor as failed points, and its output says why.
"""

from __future__ import annotations

import json
from typing import Any

from labkit.results import RunResult, Status
from labkit.writers.common import failure_text, not_run_lines, rows


def render_gradescope(run: RunResult) -> str:
    tests: list[dict[str, Any]] = []
    numbers: dict[tuple[str, int], int] = {}
    for row in rows(run):
        key = (row.lab.id, row.stage.index)
        numbers[key] = numbers.get(key, 0) + 1
        test: dict[str, Any] = {
            "name": row.title,
            "number": f"{row.stage.index}.{numbers[key]}",
            "score": row.check.points,
            "max_score": row.check.max_points,
            "status": "passed" if row.check.status is Status.PASSED else "failed",
            "output": failure_text(row.check),
            "tags": [row.lab.id, row.stage.slug],
            "visibility": "after_published" if row.hidden else "visible",
        }
        if row.check.status is Status.NOT_RUN:
            test["max_score"] = 0
            del test["status"]
        tests.append(test)
    summary = []
    for lab in run.labs:
        error = f" — harness error: {lab.error}" if lab.error else ""
        summary.append(f"{lab.id}: {lab.points:g}/{lab.max_points} points{error}")
        summary += [f"{lab.id}: {line}" for line in not_run_lines(lab)]
    results = {
        "score": round(sum(lab.points for lab in run.labs), 2),
        "execution_time": round(run.duration_s),
        "output": "\n".join([*summary, f"seed {run.seed}: replay with --seed {run.seed}"]),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(results, indent=2) + "\n"
