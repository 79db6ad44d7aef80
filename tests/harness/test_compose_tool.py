"""``labkit.tools.compose``: build first, then start; what Compose says about the project is returned to the grader
(the learner's to read), without progress lines or the run's project name; an engine that refuses a start is tried
again after ``down``, and one that keeps refusing is a harness error.

Compose is played by a stand-in installed where `labkit tools install docker-compose` would put it: a shell
script that logs its arguments and answers from a script of outcomes, so no engine is needed.
"""

from __future__ import annotations

import json
import stat
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit import fieldtools
from labkit.errors import HarnessError
from labkit.settings import Settings, reset_settings
from labkit.tools.compose import ATTEMPTS, ComposeProject

REFUSAL = "ERROR: for redis  Cannot start service redis: 500 Server Error: cannot start a stopped process: unknown"


@pytest.fixture
def tools_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "tools"
    reset_settings(Settings(tools_dir=folder))
    yield folder
    reset_settings()


def stand_in_compose(tools_dir: Path, tmp_path: Path, answers: dict[str, list[tuple[int, str]]]) -> Path:
    """Installs a "docker-compose" that logs each command to calls.log and answers the Nth call of a command
    (build, up, down) with ``answers[command][N]`` (the last one again once they run out)."""
    home = fieldtools.home(fieldtools.TOOLS["docker-compose"])
    (home / "bin").mkdir(parents=True)
    (home / fieldtools.MARKER).write_text("{}")
    script_of = tmp_path / "answers.json"
    script_of.write_text(json.dumps(answers))
    python = home / "bin" / "python"
    python.write_text(
        textwrap.dedent(
            f"""\
            #!/usr/bin/env python3
            import json, sys
            args = sys.argv[3:]  # -m compose --project-name NAME --file FILE COMMAND ...
            command = args[4]
            with open({str(tmp_path / "calls.log")!r}, "a") as log:
                log.write(" ".join(args) + "\\n")
            with open({str(tmp_path / "calls.log")!r}) as log:
                count = sum(1 for line in log if line.split()[4] == command)
            answers = json.load(open({str(script_of)!r}))[command]
            code, said = answers[min(count, len(answers)) - 1]
            sys.stderr.write(said)
            sys.exit(code)
            """
        )
    )
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return tmp_path / "calls.log"


def commands(log: Path) -> list[str]:
    return [line.split()[4] for line in log.read_text().splitlines()]


def project(tmp_path: Path) -> ComposeProject:
    file = tmp_path / "run" / "compose.yaml"
    file.parent.mkdir()
    file.write_text("services: {}\n")
    return ComposeProject(file, "labkitrun1", env={"POSTGRES_PASSWORD": "x"}, sleep=lambda seconds: None)


def test_up_builds_then_starts_and_shows_what_compose_said_without_noise(tools_dir: Path, tmp_path: Path) -> None:
    said = (
        'Creating network "labkitrun1_default" with the default driver\n'
        "Creating labkitrun1_redis_1 ... done\n"
        "Creating labkitrun1_postgres_1 ... \n"
        'ERROR: for app  Container "0123456789ab" is unhealthy.\n'
        "Encountered errors while bringing up the project.\n"
    )
    log = stand_in_compose(tools_dir, tmp_path, {"build": [(0, "Step 1/2 : FROM base\n")], "up": [(1, said)]})
    result = project(tmp_path).up(timeout=60)
    assert commands(log) == ["build", "up"], "a start the learner's file failed is not tried again"
    assert (result.ok, result.exit_code) == (False, 1)
    assert result.output == (
        'ERROR: for app  Container "0123456789ab" is unhealthy.\nEncountered errors while bringing up the project.'
    )
    up = log.read_text().splitlines()[1].split()
    assert up[:4] == ["--project-name", "labkitrun1", "--file", "compose.yaml"]
    assert "--detach" in up and "--no-build" in up


def test_a_failed_build_is_returned_and_nothing_is_started(tools_dir: Path, tmp_path: Path) -> None:
    log = stand_in_compose(tools_dir, tmp_path, {"build": [(1, "Step 3/9 : RUN pip install x\nno network\n")]})
    result = project(tmp_path).up(timeout=60)
    assert commands(log) == ["build"]
    assert (result.ok, result.output) == (False, "Step 3/9 : RUN pip install x\nno network")


def test_an_engine_refusal_is_tried_again_after_down(tools_dir: Path, tmp_path: Path) -> None:
    answers = {"build": [(0, "")], "up": [(1, REFUSAL), (1, REFUSAL), (0, "")], "down": [(0, "")]}
    log = stand_in_compose(tools_dir, tmp_path, answers)
    assert project(tmp_path).up(timeout=60).ok
    assert commands(log) == ["build", "up", "down", "up", "down", "up"]


def test_an_engine_that_keeps_refusing_is_a_harness_error(tools_dir: Path, tmp_path: Path) -> None:
    log = stand_in_compose(tools_dir, tmp_path, {"build": [(0, "")], "up": [(1, REFUSAL)], "down": [(0, "")]})
    with pytest.raises(HarnessError, match=f"refused to start labkitrun1's containers {ATTEMPTS} times") as caught:
        project(tmp_path).up(timeout=60)
    assert "cannot start a stopped process" in caught.value.message
    assert commands(log).count("up") == ATTEMPTS


def test_down_removes_volumes_and_never_raises(tools_dir: Path, tmp_path: Path) -> None:
    log = stand_in_compose(tools_dir, tmp_path, {"down": [(1, "engine gone\n")]})
    assert project(tmp_path).down().exit_code == 1
    assert "--volumes" in log.read_text().split()


def test_without_the_tool_up_is_a_harness_error_naming_the_install_command(tools_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="labkit tools install docker-compose"):
        project(tmp_path).up(timeout=60)
