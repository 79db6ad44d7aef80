"""Writers: adapters that turn a ``RunResult`` into a report for people or for other systems."""

from __future__ import annotations

from pathlib import Path

from labkit.results import RunResult
from labkit.writers.github import GithubReport, render_github
from labkit.writers.gradescope import render_gradescope
from labkit.writers.html import render_html
from labkit.writers.junit import render_junit
from labkit.writers.terminal import render_terminal

FORMATS = ("terminal", "json", "junit", "gradescope", "github", "html")


def render(run: RunResult, fmt: str, *, verbose: bool = False, report_dir: Path | None = None) -> str:
    """Renders every format except terminal to text; terminal is printed by ``render_terminal`` directly.
    For github this is the log part (annotations and the points line); the CLI also writes the job summary.
    ``report_dir`` is the folder the report will be read from, for links to artifacts (default: the current one)."""
    if fmt == "json":
        return run.to_json()
    if fmt == "junit":
        return render_junit(run)
    if fmt == "gradescope":
        return render_gradescope(run)
    if fmt == "github":
        return render_github(run).commands
    if fmt == "html":
        return render_html(run, report_dir=report_dir)
    raise ValueError(f"unknown format {fmt!r}")


__all__ = ["FORMATS", "GithubReport", "render", "render_github", "render_junit", "render_terminal"]
