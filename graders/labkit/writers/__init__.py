"""Writers: adapters that turn a ``RunResult`` into terminal output, JSON or JUnit XML."""

from __future__ import annotations

from labkit.results import RunResult
from labkit.writers.junit import render_junit
from labkit.writers.terminal import render_terminal

FORMATS = ("terminal", "json", "junit")


def render(run: RunResult, fmt: str, *, verbose: bool = False) -> str:
    """Renders every format except terminal to text; terminal is printed by ``render_terminal`` directly."""
    if fmt == "json":
        return run.to_json()
    if fmt == "junit":
        return render_junit(run)
    raise ValueError(f"unknown format {fmt!r}")


__all__ = ["FORMATS", "render", "render_junit", "render_terminal"]
