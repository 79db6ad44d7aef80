"""A learner cannot steer the grader: conftest.py, pytest.ini and environment tricks have no effect."""

from __future__ import annotations

from pathlib import Path

from support import KIT, grade_json
from throwaway import ThrowawayKit

FORCE_PASS_CONFTEST = """
import pytest

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    report.outcome = "passed"
    return report

def pytest_collection_modifyitems(items):
    items.clear()
"""


def starter_copy(tmp_path: Path, files: dict[str, str]) -> Path:
    """The tcp-kv starter, with ``files`` added: graded by the checkout's grader."""
    return ThrowawayKit(tmp_path).impl(files, copy_of=KIT / "labs" / "tcp-kv")


def assert_fails_at_connect(code: int, result: dict) -> None:  # type: ignore[type-arg]
    stages = result["labs"][0]["stages"]
    assert code == 1
    assert stages[0]["status"] == "failed"
    assert result["labs"][0]["points"] == 0


def test_learner_conftest_and_ini_are_ignored(tmp_path: Path) -> None:
    steering = {
        "conftest.py": FORCE_PASS_CONFTEST,
        "pytest.ini": "[pytest]\naddopts = -p no:labkit.plugin --co\n",
        "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '--co'\n",
    }
    impl = starter_copy(tmp_path, steering)
    code, result = grade_json("tcp-kv", impl)
    assert_fails_at_connect(code, result)


def test_environment_tricks_are_scrubbed(tmp_path: Path) -> None:
    """Variables a learner's CI could set to reach the grader's pytest: options, plugins, import path."""
    impl = starter_copy(tmp_path, {"conftest.py": FORCE_PASS_CONFTEST})
    env = {"PYTEST_ADDOPTS": "--co -p no:labkit.plugin", "PYTHONPATH": str(impl), "PYTEST_PLUGINS": "conftest"}
    code, result = grade_json("tcp-kv", impl, env=env)
    assert_fails_at_connect(code, result)
