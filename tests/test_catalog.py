"""Every lab is complete and its parts agree: lab.toml, README, starter, solution, grader and scenarios."""

from __future__ import annotations

import pytest

from labkit.catalog import Lab, load_catalog
from support import KIT, scenarios

CATALOG = load_catalog(KIT)
LABS = {lab.id: lab for lab in CATALOG.labs}


def test_catalog_is_not_empty() -> None:
    assert "tcp-kv" in LABS


@pytest.mark.parametrize("lab", CATALOG.labs, ids=lambda lab: lab.id)
def test_lab_has_every_part(lab: Lab) -> None:
    assert (lab.folder / "README.md").is_file(), "the README is the spec"
    assert lab.grader_folder.is_dir(), f"grader folder {lab.grader_folder} is missing"
    assert lab.solution_folder.is_dir(), f"solution folder {lab.solution_folder} is missing"
    starter_files = [p for p in lab.folder.iterdir() if p.name not in ("README.md", "lab.toml")]
    assert starter_files, "the lab folder needs starter code"


@pytest.mark.parametrize("lab", CATALOG.labs, ids=lambda lab: lab.id)
def test_grader_modules_match_stages(lab: Lab) -> None:
    modules = {path.name for path in lab.grader_folder.glob("stage_*.py")}
    expected = {stage.module_name for stage in lab.stages}
    assert modules == expected, f"stage modules {sorted(modules)} do not match lab.toml stages {sorted(expected)}"


@pytest.mark.parametrize("lab", CATALOG.labs, ids=lambda lab: lab.id)
def test_readme_describes_every_stage_and_every_stage_has_hints(lab: Lab) -> None:
    readme = (lab.folder / "README.md").read_text(encoding="utf-8")
    for stage in lab.stages:
        assert stage.slug in readme, f"README of {lab.id} never mentions stage {stage.slug!r}"
        assert stage.hints, f"stage {stage.slug!r} of {lab.id} has no hints"


@pytest.mark.parametrize("lab", CATALOG.labs, ids=lambda lab: lab.id)
def test_solution_mirrors_the_starter_tree(lab: Lab) -> None:
    starter = {p.relative_to(lab.folder) for p in lab.folder.rglob("*") if p.is_file()} - {
        p.relative_to(lab.folder) for p in (lab.folder / "README.md", lab.folder / "lab.toml")
    }
    solution = {p.relative_to(lab.solution_folder) for p in lab.solution_folder.rglob("*") if p.is_file()}
    missing = {p for p in starter if "__pycache__" not in p.parts} - solution
    assert not missing, f"the solution lacks starter files {sorted(map(str, missing))}"


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.id)
def test_scenario_names_a_real_stage(scenario) -> None:  # type: ignore[no-untyped-def]
    lab = LABS[scenario.lab]
    assert scenario.stage in {stage.slug for stage in lab.stages}
    assert scenario.description.strip()


GIVEN_SUFFIXES = (".proto",)  # files a lab hands out that implementations copy but must not change


@pytest.mark.parametrize("lab", CATALOG.labs, ids=lambda lab: lab.id)
def test_given_files_are_identical_in_every_implementation(lab: Lab) -> None:
    given = [path for path in lab.folder.rglob("*") if path.suffix in GIVEN_SUFFIXES]
    implementations = [lab.solution_folder, *(s.folder for s in scenarios() if s.lab == lab.id)]
    implementations += sorted((KIT / "tests" / "alternatives" / lab.id).glob("*/"))
    for original in given:
        relative = original.relative_to(lab.folder)
        for folder in implementations:
            copy = folder / relative
            if copy.exists():
                assert copy.read_bytes() == original.read_bytes(), f"{copy} differs from {original}"
