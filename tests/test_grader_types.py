"""Lab graders are type-checked as pytest imports them: one mypy run per lab folder, so labs that share module
names (conftest) do not clash; helper modules strictly, stage modules and conftests with unannotated fixture
parameters allowed and their bodies still checked."""

from __future__ import annotations

import configparser
import shutil
import sys
from pathlib import Path

import pytest

from support import KIT

sys.path.insert(0, str(KIT / "tests" / "contracts"))
from typecheck_graders import FIXTURE_TAKER_FLAGS, check, lab_config, takes_fixtures

UNCOPIED = shutil.ignore_patterns("__pycache__", "*.egg-info")


def kit_with(tmp_path: Path, *labs: str) -> Path:
    """A kit holding labkit, these labs' grader folders and the project's mypy settings."""
    kit = tmp_path / "kit"
    for folder in ("labkit", *labs):
        shutil.copytree(KIT / "graders" / folder, kit / "graders" / folder, ignore=UNCOPIED)
    shutil.copyfile(KIT / "pyproject.toml", kit / "pyproject.toml")
    return kit


def append(path: Path, code: str) -> int:
    """Appends ``code`` to a module; returns the line number of its first line."""
    text = path.read_text()
    path.write_text(text + "\n\n" + code)
    return text.count("\n") + 3


def error_lines(output: str, module: str) -> dict[int, str]:
    prefix = f"graders/tcp-kv/{module}:"
    errors = [line.removeprefix(prefix) for line in output.splitlines() if line.startswith(prefix)]
    return {int(line.split(":", 1)[0]): line for line in errors if ": error: " in line}


@pytest.mark.slow
def test_labs_sharing_module_names_each_check_clean(tmp_path: Path) -> None:
    kit = kit_with(tmp_path, "tcp-kv", "http-server")
    results = check(kit)
    assert [result.lab for result in results] == ["http-server", "tcp-kv"]
    for result in results:
        assert result.clean, result.output


@pytest.mark.slow
def test_helpers_are_strict_and_stages_may_leave_fixtures_unannotated(tmp_path: Path) -> None:
    kit = kit_with(tmp_path, "tcp-kv")
    lab = kit / "graders" / "tcp-kv"
    untyped_helper = append(lab / "kvwire.py", "def untyped(value):\n    return value\n")
    untyped_check = append(lab / "stage_connect.py", "def check_planted(kv):\n    kv.close()\n")
    wrong_body = append(lab / "stage_connect.py", 'def check_wrong(kv):\n    count: int = "many"\n') + 1

    (result,) = check(kit)

    assert result.exit_code == 1
    helper_errors = error_lines(result.output, "kvwire.py")
    stage_errors = error_lines(result.output, "stage_connect.py")
    assert "[no-untyped-def]" in helper_errors[untyped_helper]
    assert untyped_check not in stage_errors
    assert "[assignment]" in stage_errors[wrong_body]
    assert len(helper_errors) + len(stage_errors) == 2, result.output


def test_stages_hidden_stages_and_conftests_take_fixtures() -> None:
    assert [takes_fixtures(name) for name in ("stage_connect", "hidden_extra", "conftest", "kvwire", "stages")] == [
        True, True, True, False, False,
    ]  # fmt: skip


def test_each_lab_keeps_the_project_settings_and_relaxes_only_its_fixture_takers(tmp_path: Path) -> None:
    lab = KIT / "graders" / "tcp-kv"
    config = configparser.ConfigParser()
    config.read_string(lab_config(KIT, lab, tmp_path / "cache"))
    assert config["mypy"]["strict"] == "True"
    assert config["mypy"]["mypy_path"] == f"{lab},{KIT / 'graders'}"
    ignored = next(section for name, section in config.items() if "grpc_tools.*" in name)
    assert ignored["ignore_missing_imports"] == "True"
    relaxed = next(name for name in config.sections() if "conftest" in name)
    assert set(relaxed.removeprefix("mypy-").split(",")) == {"conftest"} | {
        path.stem for path in lab.glob("stage_*.py")
    }
    assert dict(config[relaxed]) == {key: str(value) for key, value in FIXTURE_TAKER_FLAGS.items()}
