"""`labkit mutate`: single-change mutants of a reference solution, graded to measure how much its grader catches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.catalog import load_catalog
from labkit.errors import LabConfigError
from labkit.mutants import mutants_of
from labkit.mutation import (
    MutationReport,
    Outcome,
    Progress,
    load_ledger,
    load_summary,
    run_mutation,
    stale_ledger_entries,
    write_summary,
)
from labkit.truth import stale_labs, truth_table
from support import session_env
from throwaway import Stage, ThrowawayKit, write

CALC = """
def admit(age, limit):
    if age < limit:
        return "refused"
    if age > 120:
        return "check the age"
    return "admitted"


QUERY = "SELECT id FROM accounts WHERE balance >= %s ORDER BY id FOR UPDATE"
NOT_CODE = "a plain message, > and < left alone"
"""

# Both boundaries, on both sides; nothing about QUERY (a driver lab without a database).
STAGE = """
from labkit.checks import expect_equal


def check_the_limit_admits(driver):
    for age, limit, verdict in ((17, 18, "refused"), (18, 18, "admitted"), (19, 18, "admitted")):
        expect_equal(driver.call("admit", age, limit), verdict, f"admit({age}, {limit})")


def check_implausible_ages_are_questioned(driver):
    expect_equal(driver.call("admit", 120, 18), "admitted", "admit(120, 18)")
    expect_equal(driver.call("admit", 121, 18), "check the age", "admit(121, 18)")
"""


def test_python_sql_and_lua_mutants_each_change_one_thing(tmp_path: Path) -> None:
    write(tmp_path / "calc.py", CALC)
    write(tmp_path / "schema.sql", "CREATE TABLE t (id int NOT NULL UNIQUE, score int CHECK (score >= 0));\n")
    write(tmp_path / "__pycache__" / "calc.py", "x = 1 < 2\n")  # caches are never mutated
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "logo.png").write_bytes(b"\x89PNG\r\n")  # data a solution serves: not code, not text
    mutants = mutants_of(tmp_path)
    by_operator: dict[str, list[str]] = {}
    for mutant in mutants:
        by_operator.setdefault(mutant.operator, []).append(f"{mutant.path}:{mutant.line}: {mutant.after.strip()}")
    assert by_operator["core/ReplaceComparisonOperator_Lt_LtE"] == ["calc.py:3: if age <= limit:"]
    assert by_operator["core/ReplaceComparisonOperator_Gt_GtE"] == ["calc.py:5: if age >= 120:"]
    assert "calc.py:5: if age > 121:" in by_operator["core/NumberReplacer"]
    assert "calc.py:10: " + 'QUERY = "SELECT id FROM accounts WHERE balance > %s ORDER BY id FOR UPDATE"' in (
        by_operator["text/ge-to-gt"])  # fmt: skip
    assert by_operator["text/drop-for-update"] == [
        'calc.py:10: QUERY = "SELECT id FROM accounts WHERE balance >= %s ORDER BY id"'
    ]
    assert "schema.sql:1: CREATE TABLE t (id int UNIQUE, score int CHECK (score >= 0));" in by_operator[
        "text/drop-not-null"]  # fmt: skip
    assert not any("NOT_CODE" in line for lines in by_operator.values() for line in lines), "prose is not code"
    assert all("__pycache__" not in mutant.path for mutant in mutants)
    assert {mutant.path for mutant in mutants} == {"calc.py", "schema.sql"}
    assert len({mutant.id for mutant in mutants}) == len(mutants)


def test_a_lab_whose_learner_writes_tests_mutates_the_files_it_names(tmp_path: Path) -> None:
    """By default test_*.py files are not the solution's code; ``mutate = [...]`` in lab.toml names what is."""
    write(tmp_path / "scheduler.py", "def fits(a, b):\n    return a < b\n")
    write(tmp_path / "tests" / "test_scheduler.py", "def test_fits():\n    assert 1 < 2\n")
    assert {m.path for m in mutants_of(tmp_path)} == {"scheduler.py"}
    assert {m.path for m in mutants_of(tmp_path, ["tests/*.py"])} == {"tests/test_scheduler.py"}
    assert mutants_of(tmp_path, ["nothing/*.py"]) == []


def test_configuration_files_a_lab_names_lose_a_line_or_change_a_number_or_a_boolean(tmp_path: Path) -> None:
    """A Dockerfile, YAML or HCL file: every line but blanks and comments left out; a whole number (not one in a
    version, an address or with a unit) one more; true and false swapped; comments never changed."""
    write(tmp_path / "Dockerfile", "# a comment with 1 and true\nFROM base:3.12\n\nEXPOSE 8080\nUSER 10001:10001\n")
    write(tmp_path / "k8s" / "app.yaml", "replicas: 2  # 2 is enough\nreadOnly: true\nimage: notes:1.0.0\n")
    changes = sorted((m.path, m.operator, m.after.strip()) for m in mutants_of(tmp_path, ["Dockerfile", "k8s/*.yaml"]))
    assert changes == [
        ("Dockerfile", "config/drop-line", "(removed)"),
        ("Dockerfile", "config/drop-line", "(removed)"),
        ("Dockerfile", "config/drop-line", "(removed)"),
        ("Dockerfile", "config/number-plus-one", "EXPOSE 8081"),
        ("k8s/app.yaml", "config/drop-line", "(removed)"),
        ("k8s/app.yaml", "config/drop-line", "(removed)"),
        ("k8s/app.yaml", "config/drop-line", "(removed)"),
        ("k8s/app.yaml", "config/flip-boolean", "readOnly: false"),
        ("k8s/app.yaml", "config/number-plus-one", "replicas: 3  # 2 is enough"),
    ]
    dropped = {m.before.strip() for m in mutants_of(tmp_path, ["Dockerfile"]) if m.operator == "config/drop-line"}
    assert dropped == {"FROM base:3.12", "EXPOSE 8080", "USER 10001:10001"}


def test_lab_toml_mutate_must_list_relative_patterns(tmp_path: Path) -> None:
    kit = _calc_kit(tmp_path)
    toml = kit.root / "labs" / "calc" / "lab.toml"
    toml.write_text('mutate = ["/etc/*.py"]\n' + toml.read_text())
    with pytest.raises(LabConfigError, match="mutate must list glob patterns relative to the solution"):
        load_catalog(kit.root).get("calc")
    toml.write_text(toml.read_text().replace('"/etc/*.py"', '"tests/*.py"'))
    assert load_catalog(kit.root).get("calc").mutate == ("tests/*.py",)


def test_comments_in_sql_and_lua_are_never_mutated(tmp_path: Path) -> None:
    write(tmp_path / "m.sql", "-- keep a > b AND c\nSELECT 1 WHERE a > b; /* x < y\n AND z */ SELECT 2 WHERE c < d;\n")
    write(tmp_path / "q.py", 'Q = """SELECT id FROM t -- newest first, DESC\n WHERE a >= 1 ORDER BY id DESC"""\n')
    changed = sorted(m.after.strip() for m in mutants_of(tmp_path) if m.operator.startswith("text/"))
    assert not [line for line in changed if line.startswith("-- keep")], "a line comment was mutated"
    assert "SELECT 1 WHERE a >= b; /* x < y" in changed and "SELECT 1 WHERE a > b; /* x <= y" not in changed
    assert "AND z */ SELECT 2 WHERE c <= d;" in changed and "OR z */ SELECT 2 WHERE c < d;" not in changed
    assert 'Q = """SELECT id FROM t -- newest first, ASC' not in changed, "a comment inside a query was mutated"
    assert 'WHERE a > 1 ORDER BY id DESC"""' in changed and 'WHERE a >= 1 ORDER BY id ASC"""' in changed


def test_the_same_change_to_identical_lines_gets_two_ids(tmp_path: Path) -> None:
    write(tmp_path / "flags.py", "def first():\n    done = True\n\n\ndef second():\n    done = True\n")
    ids = [m.id for m in mutants_of(tmp_path) if m.operator == "core/ReplaceTrueWithFalse"]
    assert len(ids) == 2 and ids[1] == ids[0] + "~2"


def test_a_dotted_exception_class_is_passed_over_and_the_plain_ones_mutated(tmp_path: Path) -> None:
    source = (
        "import binascii\n\ntry:\n    x = 1\nexcept (binascii.Error, KeyError):\n    x = 2\n"
        "except ValueError:\n    x = 3\n"
    )
    write(tmp_path / "tokens.py", source)
    changed = [m.after.strip() for m in mutants_of(tmp_path) if m.operator == "core/ExceptionReplacer"]
    assert "except (binascii.Error, type('NeverRaised', (Exception,), {})):" in changed
    assert "except type('NeverRaised', (Exception,), {}):" in changed


def test_a_mutant_keeps_its_id_when_other_lines_change(tmp_path: Path) -> None:
    write(tmp_path / "calc.py", CALC)
    before = {mutant.id for mutant in mutants_of(tmp_path)}
    write(tmp_path / "calc.py", "# a comment that shifts every line\n" + CALC)
    assert {mutant.id for mutant in mutants_of(tmp_path)} == before


TANGLE = """\
import binascii


def decode(text, limit=3):
    total = 0
    for part in text.split(","):
        try:
            value = int(part) if part else -1
        except (ValueError, binascii.Error) as error:
            raise KeyError(part) from error
        if value >= limit and not (value % 2 == 0 or value << 1 > 9):
            break
        total += value * 2 // 1
    return total is not None and total != 0
"""


def test_python_mutants_are_exactly_cosmic_rays_own(tmp_path: Path) -> None:
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    from labkit.mutants import NEVER_RAISED, NEVER_RAISED_NAME, PYTHON_OPERATORS

    write(tmp_path / "tangle.py", TANGLE)
    ours = sorted((m.operator, m.source) for m in mutants_of(tmp_path) if m.operator.startswith("core/"))
    theirs = []
    for name in PYTHON_OPERATORS:
        for occurrence in range(200):
            try:
                mutated = mutate_code(TANGLE, get_operator(name)(), occurrence)
            except AttributeError:  # cosmic-ray cannot rename a dotted name in an except tuple
                continue
            if mutated is None:
                break
            if mutated != TANGLE:
                theirs.append((name, mutated.replace(NEVER_RAISED_NAME, NEVER_RAISED)))
    assert len(ours) > 30 and ours == sorted(set(theirs))
    # The except tuple's plain name is still mutated where the dotted one cannot be.
    assert any("except (type(" in source for operator, source in ours if operator == "core/ExceptionReplacer")


def test_a_reviewed_mutant_the_solution_no_longer_has_is_stale(tmp_path: Path) -> None:
    kit = _calc_kit(tmp_path)
    lab = load_catalog(kit.root).get("calc")
    mutants = mutants_of(lab.solution_folder)
    kept = next(m for m in mutants if m.operator == "core/ReplaceComparisonOperator_Lt_LtE")
    write(
        lab.grader_folder / "mutants.toml",
        f"""\
[[equivalent]]
id = "{kept.id}"
reason = "reviewed on today's line"

[[out_of_reach]]
id = "calc.py:core/NumberReplacer:0000000000"
reason = "reviewed on a line since rewritten"
""",
    )
    assert stale_ledger_entries(lab, mutants) == ["calc.py:core/NumberReplacer:0000000000"]


def test_the_ledger_needs_a_reason_for_every_reviewed_mutant(tmp_path: Path) -> None:
    kit = _calc_kit(tmp_path)
    lab = load_catalog(kit.root).get("calc")
    write(lab.grader_folder / "mutants.toml", '[[equivalent]]\nid = "calc.py:x:1"\nreason = ""\n')
    with pytest.raises(LabConfigError, match="must say why"):
        load_ledger(lab)
    write(lab.grader_folder / "mutants.toml", '[[surviving]]\nid = "calc.py:x:1"\nreason = "no"\n')
    with pytest.raises(LabConfigError, match="unknown tables"):
        load_ledger(lab)


def _calc_kit(folder: Path) -> ThrowawayKit:
    kit = ThrowawayKit(folder).lab(
        "calc", "driver", run={"module": "calc", "ready_timeout": 10},
        stages={"admit": Stage(STAGE, points=2, timeout=10)},
    )  # fmt: skip
    write(kit.root / "solutions" / "calc" / "calc.py", CALC)
    return kit


@pytest.mark.slow
def test_mutate_kills_boundary_mutants_and_skips_reviewed_ones(tmp_path: Path) -> None:
    kit = _calc_kit(tmp_path)
    lab = load_catalog(kit.root).get("calc")
    mutants = mutants_of(lab.solution_folder)
    # QUERY is never run: a change to it cannot be seen, which the ledger records once with the reason.
    unseen = [mutant for mutant in mutants if "QUERY" in mutant.before]
    assert unseen
    write(
        lab.grader_folder / "mutants.toml",
        "".join(
            f'[[equivalent]]\nid = "{mutant.id}"\nreason = "QUERY is never executed in this lab"\n' for mutant in unseen
        ),
    )
    out = tmp_path / "mutants.json"
    done = kit.labkit("mutate", "calc", "--jobs", "2", "--out", str(out))
    report = json.loads(out.read_text())
    verdicts = {outcome["id"]: outcome for outcome in report["outcomes"]}
    assert done.returncode == 0, done.stdout + done.stderr
    assert report["equivalent"] == len(unseen) and report["survived"] == 0 and report["error"] == 0
    assert report["killed"] + report["timeout"] == len(mutants) - len(unseen) > 0
    assert report["sensitivity"] == 1.0
    boundary = next(o for o in verdicts.values() if o["after"].strip() == "if age <= limit:")
    assert (boundary["verdict"], boundary["stage"]) == ("killed", "admit")
    assert "sensitivity 100.0%" in done.stdout


@pytest.mark.slow
def test_a_survivor_is_shown_with_its_change_and_fails_the_run(tmp_path: Path) -> None:
    kit = _calc_kit(tmp_path)
    done = kit.labkit("mutate", "calc", "--only", "text/drop-for-update")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "survived" in done.stdout and 'ORDER BY id"' in done.stdout
    assert "1 survived" in done.stdout


@pytest.mark.slow
def test_a_run_that_reuses_recorded_verdicts_counts_the_time_that_graded_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Applying a review to a recorded run grades only the solution; its figures keep the recorded run's time."""
    kit = _calc_kit(tmp_path)
    for name, value in {**session_env(), **kit.env}.items():  # the gradings are this session's, in its scratch
        monkeypatch.setenv(name, value)
    lab = load_catalog(kit.root).get("calc")
    chosen = mutants_of(lab.solution_folder)[:2]
    recorded = {mutant.id: ("killed", "admit") for mutant in chosen}

    def run(reuse: dict[str, tuple[str, str | None]] | None) -> MutationReport:
        return run_mutation(lab, chosen, jobs=1, seed=1, timeout_s=None, on_done=lambda _: None, reuse=reuse,
                            reused_elapsed_s=1000.0)  # fmt: skip

    reused = run(recorded)
    assert [outcome.verdict for outcome in reused.outcomes] == ["killed", "killed"]
    assert 1000.0 < reused.elapsed_s < 1000.0 + 60
    assert run(None).elapsed_s < 60, "a run that reuses nothing counts only its own time"


@pytest.mark.slow
def test_a_stopped_record_run_resumes_with_the_verdicts_it_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each graded verdict is kept as it is known; a later --record run grades only the rest, counts the time of
    both runs, and removes what it kept once the figures are written."""
    kit = _calc_kit(tmp_path)
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    for name, value in {**session_env(), **kit.env, **cache}.items():
        monkeypatch.setenv(name, value)
    lab = load_catalog(kit.root).get("calc")
    every = mutants_of(lab.solution_folder)
    first_two = every[:2]
    progress = Progress(lab)
    graded = run_mutation(lab, first_two, jobs=2, seed=1, timeout_s=None, on_done=lambda _: None, progress=progress)
    kept, kept_s = progress.load()
    assert kept == {o.mutant.id: (o.verdict, o.stage) for o in graded.outcomes}
    assert 0 < kept_s <= graded.elapsed_s + 0.05  # kept to a tenth of a second
    with progress.path.open("a", encoding="utf-8") as cut_short:  # the line a stopped run was writing
        cut_short.write('{"id": "calc.py:')
    assert progress.load()[0] == kept
    # A made-up verdict, kept by another (stopped) run, shows that the resumed run takes the kept ones as they are,
    # without grading them again, and counts the time of every run that kept them.
    fake = every[2]
    Progress(lab).keep(Outcome(fake, "timeout", "admit"), elapsed_s=500.0)

    done = kit.labkit("mutate", "calc", "--record", "--jobs", "2", env=cache)
    assert f"resuming an unfinished run: {len(kept) + 1} verdicts kept" in done.stdout, done.stdout + done.stderr
    summary = load_summary(lab)
    assert summary is not None
    assert summary["verdicts"][fake.id] == {"verdict": "timeout", "stage": "admit"}
    assert set(summary["verdicts"]) == {mutant.id for mutant in every}
    assert summary["elapsed_s"] > kept_s + 500.0
    assert not progress.path.exists()
    # Another solution is another fingerprint: nothing kept for the old one is taken for it.
    write(lab.solution_folder / "calc.py", CALC + "\n# changed\n")
    assert Progress(lab).path != progress.path


def test_recorded_figures_go_stale_when_the_grader_or_solution_changes(tmp_path: Path) -> None:
    kit = _calc_kit(tmp_path)
    catalog = load_catalog(kit.root)
    lab = catalog.get("calc")
    first, second, third = mutants_of(lab.solution_folder)[:3]
    report = MutationReport("calc", [Outcome(first, "killed", "admit"), Outcome(second, "survived"),
                                     Outcome(third, "equivalent")])  # fmt: skip
    write_summary(lab, report)
    assert stale_labs(catalog) == []
    # The third was reviewed then, but the ledger has no entry now: it counts as a survivor.
    assert "| calc | not traced yet | 0 | 0 | 1 of 3 | 0 | 2 | 33% |" in truth_table(catalog)
    # Reviewing a survivor changes how it is counted, not the verdicts: nothing goes stale.
    write(
        lab.grader_folder / "mutants.toml",
        "".join(f'[[equivalent]]\nid = "{m.id}"\nreason = "reviewed in this test"\n' for m in (second, third)),
    )
    assert stale_labs(catalog) == []
    assert "| calc | not traced yet | 0 | 0 | 1 of 3 | 2 | 0 | 100% |" in truth_table(catalog)
    write(lab.solution_folder / "calc.py", CALC + "\n# changed\n")
    assert stale_labs(catalog) == ["calc"]
    write(lab.solution_folder / "calc.py", CALC)
    assert stale_labs(catalog) == []
    write(lab.grader_folder / "stage_admit.py", STAGE + "\n# changed\n")
    assert stale_labs(catalog) == ["calc"]


def test_the_public_mutants_of_a_source_are_the_cosmic_ray_mutants_of_its_file(tmp_path: Path) -> None:
    from labkit.tools.pymutants import mutants

    write(tmp_path / "tangle.py", TANGLE)
    public = mutants(TANGLE)
    private = [m for m in mutants_of(tmp_path) if m.operator.startswith("core/")]
    assert len(public) == len(private) > 30
    assert [(m.operator, m.line, m.source) for m in public] == [(m.operator, m.line, m.source) for m in private]
    assert [f"tangle.py:{m.id}" for m in public] == [m.id for m in private]
    assert len({m.id for m in public}) == len(public)
    for mutant in public:
        compile(mutant.source, mutant.id, "exec")
        assert "\n" not in mutant.description and " → " in mutant.description


def test_a_public_mutant_says_what_changed_in_one_line(tmp_path: Path) -> None:
    from labkit.tools.pymutants import mutants

    source = CALC + "\n\ndef spread(values):\n    return (\n        max(values)\n        - min(values)\n    )\n"
    source += "\n\ndef late(hour, day):\n    return hour >= 20 and day not in ('Sat', 'Sun') and hour < 24\n"
    described: dict[tuple[str, int], list[str]] = {}
    for mutant in mutants(source):
        described.setdefault((mutant.operator, mutant.line), []).append(mutant.description)
    assert described["core/ReplaceComparisonOperator_Lt_LtE", 3] == ["if age < limit: → if age <= limit:"]
    assert described["core/ReplaceComparisonOperator_Gt_GtE", 5] == ["if age > 120: → if age >= 120:"]
    # The changed line only, spaces collapsed; on a long line, the words that differ and two words either side.
    assert described["core/ReplaceBinaryOperator_Sub_Add", 17] == ["- min(values) → + min(values)"]
    assert described["core/ReplaceComparisonOperator_Lt_LtE", 22] == ["and hour < 24 → and hour <= 24"]
    assert described["core/ReplaceAndWithOr", 22] == [
        ">= 20 and day not → >= 20 or day not",
        "('Sat', 'Sun') and hour < → ('Sat', 'Sun') or hour <",
    ]
    shifted = {m.id: m.line for m in mutants("# one more line first\n" + source)}
    assert {m.id: m.line + 1 for m in mutants(source)} == shifted


@pytest.mark.parametrize(
    ("second", "verdict"), [("timeout", "timeout"), ("survived", "survived"), ("killed", "killed")]
)
def test_a_timeout_counts_only_when_a_grading_with_twice_the_budget_times_out_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, second: str, verdict: str
) -> None:
    """A busy machine can push one grading past the budget; the verdict is that of a second, longer grading."""
    from labkit import mutation

    lab = load_catalog(_calc_kit(tmp_path).root).get("calc")
    mutant = mutants_of(lab.solution_folder)[0]
    budgets: list[float] = []

    def grade(_lab: object, graded: object, _seed: int, budget: float) -> Outcome:
        budgets.append(budget)
        if graded is None:
            return Outcome(mutant, "survived", seconds=10.0)  # the solution, at full marks in 10 s
        return Outcome(mutant, "timeout" if len(budgets) == 2 else second, "admit" if second == "killed" else None)

    monkeypatch.setattr(mutation, "_grade_copy", grade)
    report = run_mutation(lab, [mutant], jobs=1, seed=1, timeout_s=None, on_done=lambda _: None)
    assert [outcome.verdict for outcome in report.outcomes] == [verdict]
    assert budgets == [600.0, 40.0, 80.0]  # the solution's, then 10 s + 30 s, then twice that
