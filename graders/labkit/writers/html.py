"""One grading run as a self-contained HTML page: per lab, the stages, then every check with its details."""

from __future__ import annotations

from html import escape

from labkit.results import RunResult, Status
from labkit.writers.common import failure_text
from labkit.writers.html_page import page, table


def render_html(run: RunResult) -> str:
    parts = [
        "<h1>labkit report</h1>",
        f'<p class="meta">labkit {escape(run.labkit_version)} · started {escape(run.started_at)} · seed {run.seed} '
        f"· services {escape(run.services)} · sandbox {escape(run.sandbox)}</p>",
    ]
    for lab in run.labs:
        parts.append(f"<h2>{escape(lab.id)} — {escape(lab.title)}: {lab.points:g}/{lab.max_points}</h2>")
        parts.append(f'<p class="meta">implementation {escape(lab.impl)}</p>')
        if lab.error:
            parts.append(f'<p class="error">harness error (not the submission\'s fault): {escape(lab.error)}</p>')
        stage_rows = [
            [str(s.index), escape(s.slug), escape(s.title), _status(s.status), f"{s.points:g}/{s.max_points}"]
            for s in lab.stages
        ]
        parts.append(table(["#", "stage", "title", "status", "points"], stage_rows, numeric=frozenset({0, 4})))
        check_rows = []
        for stage in lab.stages:
            for check in stage.checks:
                detail = failure_text(check, with_transcript=True)
                check_rows.append(
                    [
                        escape(stage.slug),
                        escape(check.name),
                        _status(check.status),
                        f"{check.points:g}/{check.max_points:g}",
                        f"<pre>{escape(detail)}</pre>" if detail else "",
                    ]
                )
        parts.append(table(["stage", "check", "status", "points", "details"], check_rows, numeric=frozenset({3})))
    return page("labkit report", "\n".join(parts))


def _status(status: Status) -> str:
    return f'<span class="{status.value}">{status.value}</span>'
