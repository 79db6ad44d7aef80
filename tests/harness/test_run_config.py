"""The run configuration: one frozen object, one JSON file, one option of the grader; bad values fail when read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from labkit.catalog import load_catalog
from labkit.engine import INI_PATH, GradeRequest, grader_env, pytest_command
from labkit.run_config import RunChoices, RunConfig, RunConfigError, SandboxChoice, ServiceChoice
from support import KIT, run_labkit


def a_config(run_dir: Path, **choices: Any) -> RunConfig:
    return RunConfig(
        lab_id="tcp-kv",
        impl=KIT / "solutions" / "tcp-kv",
        kit_root=KIT,
        run_dir=run_dir,
        run_id="lkt-config",
        choices=RunChoices(seed=7, **choices),
    )


def test_a_configuration_survives_its_file(tmp_path: Path) -> None:
    config = a_config(
        tmp_path,
        services=ServiceChoice.EXTERNAL,
        sandbox=SandboxChoice.DOCKER,
        until=3,
        extra_graders=tmp_path / "private",
        hidden_details=True,
    )
    path = config.write()
    assert path.parent == tmp_path and path.stat().st_mode & 0o077 == 0, "readable by the grader's user only"
    read = RunConfig.read(path)
    assert read == config
    assert read.choices.services is ServiceChoice.EXTERNAL and read.choices.sandbox is SandboxChoice.DOCKER
    assert RunConfig.from_json(a_config(tmp_path).to_json()) == a_config(tmp_path)
    assert read.results_path == tmp_path / "tcp-kv.results.json"


def written(tmp_path: Path, change: dict[str, Any], in_choices: bool = True) -> str:
    data = json.loads(a_config(tmp_path).to_json())
    (data["choices"] if in_choices else data).update(change)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"services": "cloud"}, "choices.services must be one of auto, embedded, docker, external, not 'cloud'"),
        ({"sandbox": "vm"}, "choices.sandbox must be one of process, docker, polyglot, not 'vm'"),
        ({"sandbox": 1}, "choices.sandbox must be one of process, docker, polyglot, not 1"),
        ({"seed": "7"}, "choices.seed must be an integer, not '7'"),
        ({"seed": True}, "choices.seed must be an integer, not True"),
        ({"until": -1}, "choices.until must be at least 0, not -1"),
        ({"hidden_details": "yes"}, "choices.hidden_details must be true or false, not 'yes'"),
        ({"extra_graders": ""}, "choices.extra_graders must be a non-empty string, not ''"),
    ],
)
def test_a_bad_choice_names_its_field_and_what_it_may_be(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    with pytest.raises(RunConfigError) as caught:
        RunConfig.from_json(written(tmp_path, change))
    assert str(caught.value) == f"run configuration: {message}"


def test_a_missing_or_malformed_field_is_named(tmp_path: Path) -> None:
    data = json.loads(a_config(tmp_path).to_json())
    del data["run_id"]
    with pytest.raises(RunConfigError, match="run_id is missing"):
        RunConfig.from_json(json.dumps(data))
    with pytest.raises(RunConfigError, match="lab_id must be a non-empty string, not 3"):
        RunConfig.from_json(written(tmp_path, {"lab_id": 3}, in_choices=False))
    with pytest.raises(RunConfigError, match="choices must be a JSON object, not list"):
        RunConfig.from_json(written(tmp_path, {"choices": []}, in_choices=False))
    with pytest.raises(RunConfigError, match="not JSON"):
        RunConfig.from_json("{")
    with pytest.raises(RunConfigError, match="cannot read"):
        RunConfig.read(tmp_path / "absent.json")


def test_choices_given_as_strings_become_members_or_fail_at_once() -> None:
    assert RunChoices(seed=1, services="docker", sandbox="docker").services is ServiceChoice.DOCKER  # type: ignore[arg-type]
    with pytest.raises(RunConfigError, match="services must be one of auto, embedded, docker, external, not 'cloud'"):
        RunChoices(seed=1, services="cloud")  # type: ignore[arg-type]


def test_the_grader_is_told_everything_in_one_option(tmp_path: Path) -> None:
    lab = load_catalog(KIT).get("tcp-kv")
    config = a_config(tmp_path, until=2, hidden_details=True)
    command = pytest_command(GradeRequest(lab, config), config.path, 9)
    options = [part for part in command if part.startswith("--labkit-")]
    assert options == [f"--labkit-config={config.path}", "--labkit-events-fd=9"]
    assert [Path(part).name for part in command if part.endswith(".py")] == [
        "stage_connect.py",
        "stage_request_response.py",
    ]


def test_choices_as_grade_options() -> None:
    assert RunChoices(seed=3).grade_arguments() == ["--seed", "3", "--services", "auto"]
    everything = RunChoices(3, ServiceChoice.DOCKER, SandboxChoice.DOCKER, 2, Path("/private"), True)
    assert everything.grade_arguments() == [
        "--seed", "3", "--services", "docker", "--sandbox", "docker", "--stage", "2",
        "--extra-graders", "/private", "--hidden-details",
    ]  # fmt: skip


def test_the_grader_refuses_a_bad_configuration_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "tcp-kv.config.json"
    path.write_text(written(tmp_path, {"services": "cloud"}), encoding="utf-8")
    stage = load_catalog(KIT).get("tcp-kv").grader_folder / "stage_connect.py"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(INI_PATH), "--rootdir", str(stage.parent.parent),
         "-p", "labkit.plugin", f"--labkit-config={path}", str(stage)],
        cwd=tmp_path, env=grader_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "choices.services must be one of auto, embedded, docker, external, not 'cloud'" in done.stdout + done.stderr
    assert not (tmp_path / "tcp-kv.results.json").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("grade", "tcp-kv", "--services", "cloud"),
        ("grade", "tcp-kv", "--sandbox", "vm"),
        ("cohort", "grade", ".", "--lab", "tcp-kv", "--out", "results", "--services", "cloud"),
        ("cohort", "grade", ".", "--lab", "tcp-kv", "--out", "results", "--sandbox", "vm"),
    ],
)
def test_an_unknown_choice_is_a_usage_error_listing_the_choices(args: tuple[str, ...], tmp_path: Path) -> None:
    done = run_labkit(*[str(tmp_path / "results") if arg == "results" else arg for arg in args])
    assert done.returncode == 2, done.stdout + done.stderr
    listed = "'auto', 'embedded', 'docker', 'external'" if "--services" in args else "'process', 'docker'"
    assert listed in " ".join(done.stderr.replace("│", " ").split())
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "results").exists()
