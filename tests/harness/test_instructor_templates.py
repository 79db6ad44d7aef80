"""The CI templates instructors copy are valid YAML and call labkit only with options it has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from support import KIT, run_labkit

TEMPLATES = sorted((KIT / "docker" / "instructor").glob("*.y*ml"))
LABKIT_CALL = re.compile(r"labkit (grade|verify|cohort grade|cohort report)\b([^\n|>]*(?:\\\n[^\n|>]*)*)")


def options_of(command: str) -> set[str]:
    help_text = run_labkit(*command.split(), "--help", env={"COLUMNS": "200"}).stdout
    return set(re.findall(r"--[a-z][a-z-]+", help_text))


def test_templates_exist() -> None:
    names = {path.name for path in TEMPLATES}
    assert {"github-classroom.yml", "gitlab-ci.yml", "cohort-matrix.yml", "k8s-cohort-job.yaml"} <= names


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_template_is_yaml_and_uses_real_options(template: Path) -> None:
    text = template.read_text()
    assert list(yaml.safe_load_all(text)), "empty or invalid YAML"
    calls = LABKIT_CALL.findall(text)
    assert calls, "a template that never calls labkit"
    for command, arguments in calls:
        known = options_of(command)
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]+", arguments):
            assert option in known, f"{template.name}: labkit {command} has no option {option}"
