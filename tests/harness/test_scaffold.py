"""The author commands: `labkit new` writes a lab that the kit's own tests accept as written, for every run kind,
and `labkit record` re-records scenario verdicts as tests/test_scenarios.py checks them, showing what changed.

Both write into a kit checkout, so each test works on a copy of this one (without .git and .venv)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.scaffold import KINDS, Refused, with_lab_row
from labkit.templating import render
from support import KIT, session_env
from throwaway import Stage, ThrowawayKit

TIMEOUT_S = 600
# What selects a new lab in the kit's tests: its parametrized cases, plus the README table and the import contract.
SELECT_NEW_LAB = "demo-lab or lab_table_lists_every_lab or keeps_the_contract"
KIT_TESTS = ("tests/test_catalog.py", "tests/test_labs.py", "tests/test_readme.py", "tests/test_scenarios.py",
             "tests/test_grader_contract.py")  # fmt: skip


def copy_of_the_kit(tmp_path: Path) -> Path:
    return ThrowawayKit(tmp_path).copy_checkout().root


def run_in(kit: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """Runs ``command`` in ``kit``, which is where `labkit` finds its catalog (LABKIT_HOME would say otherwise)."""
    env = {name: value for name, value in os.environ.items() if name not in ("LABKIT_HOME", "PYTEST_ADDOPTS")}
    env |= session_env()
    return subprocess.run(command, cwd=kit, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def labkit(kit: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_in(kit, sys.executable, "-m", "labkit", *args)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "services"), [*((kind, "") for kind in KINDS), ("cluster", "postgres,redis"), ("none", "postgres")]
)
def test_a_new_lab_passes_the_kits_tests_as_written(tmp_path: Path, kind: str, services: str) -> None:
    kit = copy_of_the_kit(tmp_path)
    created = labkit(kit, "new", "demo-lab", "--kind", kind, *(("--services", services) if services else ()))
    assert created.returncode == 0, created.stdout + created.stderr
    bug = KINDS[kind].bug.name
    assert f"recorded the verdict of demo-lab/{bug}" in created.stdout
    assert (kit / "tests" / "scenarios" / "demo-lab" / bug / "expected.txt").read_text().startswith("score ")

    # In one process (-n 0): this test already runs beside others, and reads each test's verdict line.
    tests = run_in(kit, sys.executable, "-m", "pytest", "-n", "0", "-v", *KIT_TESTS, "-k", SELECT_NEW_LAB)
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    for test in ("test_lab_has_every_part[demo-lab]", "test_solution_mirrors_the_starter_tree[demo-lab]",
                 "test_solution_earns_full_marks[demo-lab]", "test_starter_fails_stage_one_cleanly[demo-lab]",
                 f"test_scenario_is_caught_at_its_stage[demo-lab/{bug}]", "test_lab_table_lists_every_lab",
                 "test_every_lab_grader_keeps_the_contract"):  # fmt: skip
        assert f"::{test} PASSED" in tests.stdout, f"{test} did not run and pass:\n{tests.stdout[-4000:]}"

    ruff = str(Path(sys.executable).with_name("ruff"))
    linted = ("graders/demo-lab", "tests/scenarios/demo-lab")  # the kit's lint covers graders/ and tests/
    for command in ((ruff, "check", *linted), (ruff, "format", "--check", *linted)):
        done = run_in(kit, *command)
        assert done.returncode == 0, done.stdout + done.stderr


def minimal_kit(tmp_path: Path) -> Path:
    """A kit with one lab, "taken", and the README: enough for `labkit new` to refuse or accept a request."""
    return ThrowawayKit(tmp_path).lab("taken", stages={"one": Stage("", timeout=5)}).copy_checkout("README.md").root


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("Demo_Lab", "--kind", "server"), "'Demo_Lab' is not a lab id"),
        (("taken", "--kind", "server"), "lab 'taken' already exists: labs/taken is there"),
        (("labkit", "--kind", "server"), "lab 'labkit' already exists: graders/labkit is there"),
        (("demo-lab", "--kind", "daemon"), "unknown kind 'daemon'; choose from server, driver, client, cluster, none"),
        (("demo-lab", "--kind", "server", "--services", "postgres,mysql"), "unknown service(s) mysql"),
        (("demo-lab", "--kind", "none", "--services", "redis"), "runs no program that could use redis"),
        (("demo-lab", "--kind", "server", "--title", "a | b"), "--title must be one line of text without '|'"),
    ],
)
def test_new_refuses_in_one_line_and_writes_nothing(tmp_path: Path, args: tuple[str, ...], reason: str) -> None:
    kit = minimal_kit(tmp_path)
    before = sorted(kit.rglob("*"))
    done = labkit(kit, "new", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and reason in done.stderr, done.stderr
    assert sorted(kit.rglob("*")) == before
    assert (kit / "README.md").read_text() == (KIT / "README.md").read_text()


def test_templates_keep_lines_by_their_conditions_and_fill_placeholders() -> None:
    template = (
        "always {{name}}\n"
        "only with postgres  # [if postgres]\n"
        "only without redis  <!-- [if not redis] -->\n"
        "# [if services]\n"
        "  any service\n"
        "  # [if redis]\n"
        "  redis too\n"
        "  # [end]\n"
        "# [end]\n"
    )
    flags = {"postgres": True, "redis": False, "services": True}
    assert render(template, flags, {"name": "x"}) == "always x\nonly with postgres\nonly without redis\n  any service\n"
    with pytest.raises(ValueError, match=r"unknown placeholder \{\{other\}\}"):
        render("{{other}}", flags, {})
    with pytest.raises(ValueError, match="never closed"):
        render("# [if redis]\n", flags, {})
    with pytest.raises(ValueError, match="unknown template condition 'mysql'"):
        render("x  # [if mysql]\n", flags, {})


def test_a_new_row_ends_the_lab_table() -> None:
    readme = "# kit\n\n## Labs\n\n| lab | track |\n|---|---|\n| [a](labs/a/README.md) | x |\n\nmore\n\n## Next\n"
    assert with_lab_row(readme, "| [b](labs/b/README.md) | y |") == readme.replace(
        "| x |\n", "| x |\n| [b](labs/b/README.md) | y |\n"
    )
    with pytest.raises(Refused, match="no '## Labs' section"):
        with_lab_row("# kit\n", "| [b](labs/b/README.md) | y |")


SCENARIO = "tcp-kv/exits-before-ready"  # quick to grade, and its verdict does not depend on timing


def test_record_restores_an_edited_fixture_and_shows_the_diff(tmp_path: Path) -> None:
    kit = copy_of_the_kit(tmp_path)
    fixture = kit / "tests" / "scenarios" / SCENARIO / "expected.txt"
    recorded = fixture.read_text()
    fixture.write_text(recorded.replace("stage 1 connect: failed", "stage 1 connect: edited by hand"))

    done = labkit(kit, "record", SCENARIO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fixture.read_text() == recorded
    name = f"tests/scenarios/{SCENARIO}/expected.txt"
    assert done.stdout.startswith(f"--- a/{name}\n+++ b/{name}\n@@ ")
    assert "\n-stage 1 connect: edited by hand\n+stage 1 connect: failed\n" in done.stdout

    again = labkit(kit, "record", "tcp-kv/exits-before-ready")
    assert (again.returncode, again.stdout) == (0, "no recorded verdict changed\n")


def test_record_leaves_a_scenario_that_is_not_caught_as_intended(tmp_path: Path) -> None:
    kit = copy_of_the_kit(tmp_path)
    folder = kit / "tests" / "scenarios" / SCENARIO
    (folder / "scenario.toml").write_text((folder / "scenario.toml").read_text().replace('"connect"', '"framing"'))
    (folder / "expected.txt").write_text("as it was\n")
    done = labkit(kit, "record", SCENARIO)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"NOT RECORDED {SCENARIO}: " in done.stdout and "caught at connect, not framing" in done.stdout
    assert (folder / "expected.txt").read_text() == "as it was\n"


@pytest.mark.parametrize(
    ("target", "reason"),
    [("no-such-lab", "unknown lab 'no-such-lab'"), ("tcp-kv/no-such-bug", "no scenario 'tcp-kv/no-such-bug'")],
)
def test_record_refuses_an_unknown_target(target: str, reason: str) -> None:
    done = labkit(KIT, "record", target)
    assert done.returncode == 2
    assert reason in done.stderr
