"""How far each grader is proven, kept true: every lab's requirement trace is complete (each README rule names the
checks that exercise it, or why none can; each check named exists and exercises some rule), and the figures
README.md publishes are today's (the table matches, and no lab's mutation figures predate its grader)."""

from __future__ import annotations

import pytest

from labkit.catalog import Lab, load_catalog
from labkit.mutants import mutants_of
from labkit.mutation import stale_ledger_entries
from labkit.trace import check_ids, load_trace
from labkit.truth import README_MARKERS, stale_labs, truth_table
from support import KIT

CATALOG = load_catalog(KIT)
# Labs whose trace is still to be written: the list only shrinks as traces land.
NOT_YET_TRACED: set[str] = set()


@pytest.mark.parametrize("lab", CATALOG.labs, ids=lambda lab: lab.id)
def test_the_trace_is_complete(lab: Lab) -> None:
    trace = load_trace(lab)
    if lab.id in NOT_YET_TRACED:
        assert trace is None, f"{lab.id} has a trace now: take it out of NOT_YET_TRACED"
        pytest.skip(f"{lab.id}: requirement trace not written yet")
    assert trace is not None, f"graders/{lab.id}/trace.toml is missing: every new lab comes with its trace"
    assert trace.problems(check_ids(lab)) == []


def test_the_list_of_untraced_labs_names_only_labs() -> None:
    assert {lab.id for lab in CATALOG.labs} >= NOT_YET_TRACED


def test_the_readme_publishes_todays_table() -> None:
    readme = (KIT / "README.md").read_text(encoding="utf-8")
    start, end = README_MARKERS
    published = readme.split(start, 1)[1].split(end, 1)[0]
    assert published == "\n" + truth_table(CATALOG), "run `labkit truth --write`"


def test_no_lab_publishes_stale_mutation_figures() -> None:
    assert stale_labs(CATALOG) == [], (
        "each lab listed: re-run `labkit mutate LAB --record`, then `labkit truth --write`"
    )


@pytest.mark.parametrize("lab", CATALOG.labs, ids=lambda lab: lab.id)
def test_every_reviewed_mutant_is_a_mutant_of_todays_solution(lab: Lab) -> None:
    stale = stale_ledger_entries(lab, mutants_of(lab.solution_folder, lab.mutate))  # the files the lab names
    assert not stale, f"{lab.id}/mutants.toml reviews code that has changed: {stale}"
