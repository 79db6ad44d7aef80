"""One grading run as a self-contained HTML page: per lab, the stages, then every check with its details.

Artifacts are linked by paths relative to the page's folder, so a page and its artifacts can move together."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from urllib.parse import quote

from labkit.results import CheckResult, RunResult, StageResult, Status
from labkit.writers.common import artifact_file, failure_text, not_run_lines
from labkit.writers.html_page import page, table


def render_html(run: RunResult, *, report_dir: Path | None = None) -> str:
    """``report_dir``: the folder the page is saved in (default: the current one), where links start."""
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
        parts += [f'<p class="not_run">{escape(line)}</p>' for line in not_run_lines(lab)]
        stage_rows = [
            [str(s.index), escape(s.slug), escape(s.title), _status(s.status), _stage_points(s)] for s in lab.stages
        ]
        parts.append(table(["#", "stage", "title", "status", "points"], stage_rows, numeric=frozenset({0, 4})))
        check_rows = []
        for stage in lab.stages:
            for check in stage.checks:
                detail = failure_text(check, with_transcript=True)
                links = _artifact_links(run, check, report_dir or Path.cwd())
                check_rows.append(
                    [
                        escape(stage.slug),
                        escape(check.name),
                        _status(check.status),
                        f"{check.points:g}/{check.max_points:g}" if check.status is not Status.NOT_RUN else "—",
                        (f"<pre>{escape(detail)}</pre>" if detail else "") + links,
                    ]
                )
        parts.append(table(["stage", "check", "status", "points", "details"], check_rows, numeric=frozenset({3})))
    return page("labkit report", "\n".join(parts))


def _status(status: Status) -> str:
    return f'<span class="{status.value}">{status.label}</span>'


def _stage_points(stage: StageResult) -> str:
    return f"{stage.points:g}/{stage.max_points}" if stage.not_run is None else f"not run ({stage.max_points})"


def _artifact_links(run: RunResult, check: CheckResult, report_dir: Path) -> str:
    items = []
    for artifact in check.artifacts:
        full = artifact_file(run, artifact)
        name = escape(artifact.name)
        shown = name if full is None else f'<a href="{escape(quote(os.path.relpath(full, report_dir)))}">{name}</a>'
        if artifact.description:
            shown += f" — {escape(artifact.description)}"
        if artifact.note:
            shown += f' <span class="meta">({escape(artifact.note)})</span>'
        items.append(f"<li>artifact: {shown}</li>")
    return f'<ul class="artifacts">{"".join(items)}</ul>' if items else ""
