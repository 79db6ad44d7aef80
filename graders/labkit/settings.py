"""What labkit takes from its environment, read once per process.

Each variable's name is defined here and nowhere else, and README.md's "Environment variables" table lists them.
Modules call ``settings()`` instead of reading ``os.environ``; only the code that builds a child process's
environment (the grader's, a learner's, a cohort member's, an embedded server's) copies ``os.environ``, on purpose,
with the names it adds or removes taken from here. An empty or blank value counts as unset.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

HOME = "LABKIT_HOME"
RUN_ID_PREFIX = "LABKIT_RUN_ID_PREFIX"
POSTGRES_IMAGE = "LABKIT_POSTGRES_IMAGE"
REDIS_IMAGE = "LABKIT_REDIS_IMAGE"
POSTGRES_URL = "LABKIT_POSTGRES_URL"
REDIS_URL = "LABKIT_REDIS_URL"
SANDBOX_IMAGE = "LABKIT_SANDBOX_IMAGE"
POLYGLOT_IMAGE = "LABKIT_POLYGLOT_IMAGE"
SANDBOX_CPUS = "LABKIT_SANDBOX_CPUS"
STATE_DIR = "LABKIT_STATE_DIR"
TOOLS_DIR = "LABKIT_TOOLS_DIR"
XDG_CACHE_HOME = "XDG_CACHE_HOME"  # the XDG base directory specification's cache folder
SANDBOX_POD = "LABKIT_SANDBOX_POD"  # set by labkit itself for the grader under --sandbox docker, never by a user
GITHUB_STEP_SUMMARY = "GITHUB_STEP_SUMMARY"  # set by GitHub Actions
GITHUB_OUTPUT = "GITHUB_OUTPUT"
NO_COLOR = "NO_COLOR"  # https://no-color.org: any non-empty value


def _read(name: str, parse: Callable[[str], object] = str) -> dict[str, object]:
    """A field's metadata: it is read from the variable ``name``, its stripped value passed through ``parse``."""
    return {"variable": name, "parse": parse}


@dataclass(frozen=True)
class Settings:
    home: Path | None = field(default=None, metadata=_read(HOME, Path))  # searched before the working directory
    run_id_prefix: str = field(default="lk", metadata=_read(RUN_ID_PREFIX))  # a test session finds its own runs
    postgres_image: str = field(default="postgres:17", metadata=_read(POSTGRES_IMAGE))
    redis_image: str = field(default="redis:7", metadata=_read(REDIS_IMAGE))
    postgres_url: str | None = field(default=None, metadata=_read(POSTGRES_URL))  # --services external
    redis_url: str | None = field(default=None, metadata=_read(REDIS_URL))
    sandbox_image: str = field(default="labkit-sandbox:latest", metadata=_read(SANDBOX_IMAGE))
    polyglot_image: str = field(default="labkit-sandbox-polyglot:latest", metadata=_read(POLYGLOT_IMAGE))
    sandbox_cpus: str = field(default="1", metadata=_read(SANDBOX_CPUS))  # leaves the grader a core of two
    sandbox_pod: str | None = field(default=None, metadata=_read(SANDBOX_POD))  # the docker provider joins it
    state_dir: Path | None = field(default=None, metadata=_read(STATE_DIR, Path))  # progress and backups
    tools_dir: Path | None = field(default=None, metadata=_read(TOOLS_DIR, Path))  # `labkit tools install`
    xdg_cache_home: Path | None = field(default=None, metadata=_read(XDG_CACHE_HOME, Path))
    github_step_summary: Path | None = field(default=None, metadata=_read(GITHUB_STEP_SUMMARY, Path))
    github_output: Path | None = field(default=None, metadata=_read(GITHUB_OUTPUT, Path))
    no_color: str | None = field(default=None, metadata=_read(NO_COLOR))  # any value: output without escape codes

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = environ.get(spec.metadata["variable"], "").strip()
            if raw:
                values[spec.name] = spec.metadata["parse"](raw)
        return cls(**values)


def cache_folder() -> Path:
    """labkit's own cache folder: ``$XDG_CACHE_HOME/labkit``, ``~/.cache/labkit`` without it."""
    chosen = settings()
    return (chosen.xdg_cache_home or Path.home() / ".cache") / "labkit"


def variables() -> dict[str, str]:
    """Every variable ``Settings`` reads, and the field it sets."""
    return {spec.metadata["variable"]: spec.name for spec in fields(Settings)}


_current: Settings | None = None


def settings() -> Settings:
    """This process's settings, read from the environment on first use."""
    global _current
    if _current is None:
        _current = Settings.from_env(os.environ)
    return _current


def reset_settings(replacement: Settings | None = None) -> None:
    """Puts ``replacement`` in place of this process's settings; with none, the next ``settings()`` reads the
    environment again (for tests, which change it)."""
    global _current
    _current = replacement
