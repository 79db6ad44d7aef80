"""The dev container: its definition parses, and its set-up command, run in a copy of the checkout as a Codespace
would run it (no Docker here: the command itself), leaves a kit that grades a lab with no further step."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from support import KIT
from throwaway import ThrowawayKit

DEVCONTAINER = KIT / ".devcontainer" / "devcontainer.json"


def _definition() -> dict[str, object]:
    loaded = json.loads(DEVCONTAINER.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_definition_names_an_image_a_setup_and_labkit_on_path() -> None:
    definition = _definition()
    assert isinstance(definition["image"], str) and "python:" in definition["image"]
    command = definition["postCreateCommand"]
    assert isinstance(command, str)
    script = KIT / shlex.split(command)[-1]
    assert script.is_file(), f"postCreateCommand runs {script}, which is missing"
    remote_env = definition["remoteEnv"]
    assert isinstance(remote_env, dict)
    assert remote_env["PATH"].startswith("${containerWorkspaceFolder}/.venv/bin:")


@pytest.mark.slow
def test_setup_command_makes_a_checkout_that_grades(tmp_path: Path) -> None:
    copy = ThrowawayKit(tmp_path).copy_checkout().root
    command = _definition()["postCreateCommand"]
    assert isinstance(command, str)
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH", "LABKIT_HOME")}
    # A psql on PATH, as a Codespace whose image has one: the set-up then skips its optional `apt-get install
    # postgresql-client` (a minute of package downloads that only adds a convenience; grading never needs psql).
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "psql").write_text("#!/bin/sh\necho 'psql (PostgreSQL) 17'\n")
    (tools / "psql").chmod(0o755)
    setup = subprocess.run(
        ["bash", "-c", command],
        cwd=copy,
        env={**env, "PATH": f"{tools}:{env.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert "psql not installed" not in setup.stdout
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "tcp-kv" in setup.stdout, "the set-up ends by listing the labs"

    # As the container's terminal has it: the checkout's .venv/bin first on PATH, nothing else set up.
    path = f"{copy / '.venv' / 'bin'}:{env.get('PATH', '')}"
    graded = subprocess.run(
        ["labkit", "grade", "tcp-kv", "--impl", "solutions/tcp-kv", "--stage", "1"],
        cwd=copy, env={**env, "PATH": path}, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "Score 5/5" in graded.stdout and str(copy) in graded.stdout
