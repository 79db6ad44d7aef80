"""labkit's environment is read in one place, once: ``labkit.settings``, which README's table describes."""

from __future__ import annotations

import ast
import re
from dataclasses import fields, replace
from pathlib import Path

import pytest

from labkit.settings import Settings, reset_settings, settings, variables
from support import KIT, run_labkit

PACKAGE = KIT / "graders" / "labkit"
# The functions that build a child process's environment copy the parent's on purpose.
CHILD_ENVIRONMENTS = {
    ("engine.py", "grader_env"),
    ("fieldtools.py", "_engine_settings"),  # a field tool's environment: where the Docker engine is
    ("supervisor.py", "learner_env"),
    ("subgrade.py", "run_grade"),
    ("services/embedded.py", "_launch"),
}
ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb"}


def is_environment_read(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT_NAMES:
        return isinstance(node.value, ast.Name) and node.value.id == "os"
    if isinstance(node, ast.ImportFrom) and node.module == "os":
        return any(alias.name in ENVIRONMENT_NAMES for alias in node.names)
    return False


def environment_reads(source: str) -> list[tuple[int, str]]:
    """(line, enclosing function) of every use of ``os.environ``, ``os.getenv`` and their kin in ``source``."""
    reads: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if is_environment_read(node):
            reads.append((getattr(node, "lineno", 0), function))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source), "<module>")
    return reads


def test_the_scan_finds_every_way_of_reading_the_environment() -> None:
    source = (
        "import os\nfrom os import getenv\ndef f():\n    return os.environ.get('A'), os.getenv('B')\nX = os.environb\n"
    )
    assert environment_reads(source) == [(2, "<module>"), (4, "f"), (4, "f"), (5, "<module>")]
    assert environment_reads("import os\npath = os.path.join('a', 'b')\n") == []


def test_only_settings_and_child_environments_read_the_environment() -> None:
    found: set[tuple[str, str]] = set()
    for module in sorted(PACKAGE.rglob("*.py")):
        name = module.relative_to(PACKAGE).as_posix()
        for line, function in environment_reads(module.read_text(encoding="utf-8")):
            found.add((name, function))
            allowed = (name, function) in CHILD_ENVIRONMENTS | {("settings.py", "settings")}
            assert allowed, f"{name}:{line} reads the environment; use labkit.settings.settings()"
    assert found >= CHILD_ENVIRONMENTS, "an exception no longer needed: remove it from CHILD_ENVIRONMENTS"


def test_nothing_set_means_the_defaults() -> None:
    defaults = Settings.from_env({})
    assert defaults == Settings()
    assert (defaults.home, defaults.postgres_url, defaults.sandbox_pod) == (None, None, None)
    assert (defaults.run_id_prefix, defaults.postgres_image, defaults.redis_image) == ("lk", "postgres:17", "redis:7")
    assert (defaults.sandbox_image, defaults.sandbox_cpus) == ("labkit-sandbox:latest", "1")


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_an_empty_or_blank_variable_counts_as_unset(blank: str) -> None:
    assert Settings.from_env(dict.fromkeys(variables(), blank)) == Settings()


@pytest.mark.parametrize(("variable", "name"), sorted(variables().items()))
def test_each_variable_sets_its_own_field_stripped(variable: str, name: str) -> None:
    read = Settings.from_env({variable: "  /srv/value \n", "UNRELATED": "x"})
    assert str(getattr(read, name)) == "/srv/value"
    default = next(spec.default for spec in fields(Settings) if spec.name == name)
    assert replace(read, **{name: default}) == Settings(), "only its own field changed"


def test_paths_are_paths() -> None:
    read = Settings.from_env({"LABKIT_HOME": "/srv/kit", "GITHUB_OUTPUT": "/tmp/out"})
    assert read.home == Path("/srv/kit") and read.github_output == Path("/tmp/out")


def test_read_once_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABKIT_RUN_ID_PREFIX", "first")
    reset_settings()
    assert settings().run_id_prefix == "first"
    monkeypatch.setenv("LABKIT_RUN_ID_PREFIX", "second")
    assert settings().run_id_prefix == "first", "the environment is read once"
    reset_settings()
    assert settings().run_id_prefix == "second"
    reset_settings(Settings(run_id_prefix="given"))
    assert settings().run_id_prefix == "given"


def readme_variables() -> dict[str, str]:
    """The README's table of environment variables: variable -> its default column."""
    readme = (KIT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Environment variables", 1)[1].split("\n#", 1)[0]
    return dict(re.findall(r"^\| `([A-Z_]+)` \| ([^|]+?) \|", section, flags=re.MULTILINE))


def test_the_readme_table_lists_every_variable_with_its_default() -> None:
    table = readme_variables()
    assert set(table) == set(variables())
    for variable, name in variables().items():
        default = getattr(Settings(), name)
        assert table[variable] == ("unset" if default is None else f"`{default}`"), variable


def test_github_files_named_by_the_environment_receive_the_report(tmp_path: Path) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}
    done = run_labkit("grade", "tcp-kv", "--stage", "1", "--format", "github", env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "tcp-kv" in summary.read_text(encoding="utf-8")
    assert output.read_text(encoding="utf-8").startswith("result=")
