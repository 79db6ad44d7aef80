"""The testing-quality lab stays true to itself: every hidden implementation differs from the given module by its
one change and names a rule of the README, the module is the same wherever an implementation carries it, the
README's worked example is what the module does, and the static findings land where the scenarios put them."""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from support import KIT

LAB = KIT / "labs" / "testing-quality"
GRADER = KIT / "graders" / "testing-quality"
SCENARIOS = KIT / "tests" / "scenarios" / "testing-quality"
MODULE = LAB / "scheduler.py"
HELPERS = ("suite_lint", "spec_rules", "strength", "suite_runner")


@pytest.fixture(scope="module")
def helpers() -> Iterator[dict[str, ModuleType]]:
    """The grader's helper modules, imported by path as its stages import them, and forgotten afterwards."""
    sys.path.insert(0, str(GRADER))
    try:
        yield {name: importlib.import_module(name) for name in HELPERS}
    finally:
        sys.path.remove(str(GRADER))
        for name in HELPERS:
            sys.modules.pop(name, None)


def variants() -> list[dict[str, object]]:
    return list(tomllib.loads((GRADER / "variants.toml").read_text())["variant"])


def test_each_variant_changes_the_module_once_and_names_a_rule(helpers: dict[str, ModuleType]) -> None:
    original = MODULE.read_text()
    rules = helpers["spec_rules"].RULES
    readme = (LAB / "README.md").read_text()
    ids = [str(variant["id"]) for variant in variants()]
    assert len(ids) == len(set(ids)) >= 15
    stated = " ".join(readme.split()).count(f"{len(ids)} hidden implementations")
    assert stated == 1, "the README states how many there are"
    for variant in variants():
        old, new = str(variant["old"]), str(variant["new"])
        assert original.count(old) == 1, f"{variant['id']}: its text is not in scheduler.py exactly once"
        changed = original.replace(old, new)
        assert changed != original
        compile(changed, f"{variant['id']}/scheduler.py", "exec")
        assert variant["rule"] in rules and f"**{variant['rule']} —" in readme
    assert {variant["rule"] for variant in variants()} >= {f"S{n}" for n in range(1, 12)}
    assert sum(bool(variant.get("property")) for variant in variants()) >= 2


def test_every_implementation_carries_the_given_module_unchanged() -> None:
    copies = [KIT / "solutions" / "testing-quality" / "scheduler.py"]
    copies += sorted((KIT / "tests" / "alternatives" / "testing-quality").glob("*/scheduler.py"))
    assert len(copies) >= 2
    for copy in copies:
        assert copy.read_bytes() == MODULE.read_bytes(), f"{copy} differs from {MODULE}"


def test_the_readme_worked_example_is_what_the_module_does() -> None:
    readme = (LAB / "README.md").read_text()
    example = re.search(r"### Worked example\n\n```python\n(.*?)```", readme, re.S)
    assert example is not None
    spec = importlib.util.spec_from_file_location("scheduler", MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["scheduler"] = module
    try:
        spec.loader.exec_module(module)
        parser = doctest.DocTestParser()
        test = parser.get_doctest(example.group(1), {"__name__": "readme"}, "README", str(LAB / "README.md"), 0)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL)
        runner.run(test)
        assert runner.failures == 0 and runner.tries >= 10
    finally:
        sys.modules.pop("scheduler", None)


@pytest.mark.parametrize(
    ("folder", "swallowed", "broad"),
    [
        (KIT / "solutions" / "testing-quality", 0, 0),
        (SCENARIOS / "swallows-assertions", 1, 0),
        (SCENARIOS / "raises-exception", 0, 1),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else str(value),
)
def test_static_findings(helpers: dict[str, ModuleType], folder: Path, swallowed: int, broad: int) -> None:
    lint = helpers["suite_lint"]
    found = lint.swallowed_assertions(folder)
    assert len(found) == swallowed
    assert all(re.fullmatch(r"tests/test_scheduler\.py:\d+: except .*", str(finding)) for finding in found)
    assert len(lint.broad_raises(folder)) == broad


SWALLOWING = """
def test_a():
    try:
        assert f() == 1
    except Exception:
        pass


def test_b():
    try:
        f()
    except Exception:
        g()
    try:
        f()
    except:
        pass
    try:
        f()
    except (ValueError, BaseException):
        pass
"""
RAISES = """
def test_c():
    with pytest.raises(expected_exception=Exception):
        f()
    with raises((ValueError, BaseException)):
        f()
    with pytest.raises(InvalidInterval):
        f()
"""


def test_static_findings_cover_each_form(helpers: dict[str, ModuleType], tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_forms.py").write_text(SWALLOWING + RAISES)
    lint = helpers["suite_lint"]
    swallowed = [str(finding) for finding in lint.swallowed_assertions(tmp_path)]
    assert swallowed == [
        "tests/test_forms.py:5: except Exception:",
        "tests/test_forms.py:16: except:",
        "tests/test_forms.py:20: except (ValueError, BaseException):",
    ]
    assert [finding.line for finding in lint.broad_raises(tmp_path)] == [24, 26]


def test_the_mutation_score_passes_from_the_threshold_up(helpers: dict[str, ModuleType]) -> None:
    strength = helpers["strength"]
    assert strength.THRESHOLD_PERCENT == 90
    assert strength.needed(70) == 63 and strength.needed(10) == 9 and strength.needed(71) == 64
    assert strength.passes(63, 70) and strength.passes(70, 70)
    assert not strength.passes(62, 70)  # 88.6 %: no rounding lifts it to the threshold
    graded = strength.graded_mutants(MODULE.read_text())
    assert len(graded) == 70
    units = [each.unit for each in graded]
    for killed, verdict in ((63, True), (62, False)):  # the boundary, from both sides
        survived = {unit: index >= killed for index, unit in enumerate(units)}
        score = strength.score(graded, survived, {unit: False for unit in units})
        assert (score.killed, score.total, score.passes) == (killed, 70, verdict)
        assert score.percent == (90 if verdict else 88)
        lines = score.survivor_lines("scheduler.py")
        assert len(lines) == strength.SHOWN + 1 and lines[-1] == f"… and {70 - killed - strength.SHOWN} more"
        assert lines[0] == f"scheduler.py line {graded[killed].mutant.line}: {graded[killed].mutant.description}"


def test_the_graded_mutants_are_fixed_and_the_equivalent_ones_reviewed(helpers: dict[str, ModuleType]) -> None:
    """Every equivalent mutant listed is one the module has (its change as the list says), with a reason; the
    README states the counts the grader uses."""
    strength = helpers["strength"]
    from labkit.tools.pymutants import mutants

    every = {mutant.id: mutant for mutant in mutants(MODULE.read_text())}
    listed = tomllib.loads((GRADER / "equivalent_mutants.toml").read_text())["equivalent"]
    assert len(listed) == len(strength.equivalent()) >= 1
    for entry in listed:
        mutant = every[entry["id"]]
        assert entry["change"] == f"line {mutant.line}: {mutant.description}" and len(entry["reason"]) > 30
    graded = strength.graded_mutants(MODULE.read_text())
    assert [each.unit for each in graded] == [each.unit for each in strength.graded_mutants(MODULE.read_text())]
    assert [each.mutant.id for each in graded] == [id for id in every if id not in strength.equivalent()]
    readme = " ".join((LAB / "README.md").read_text().split())
    assert f"{len(every)} mutants, the same ones in the same order on every run" in readme
    assert f"It leaves out {len(listed)} it reviewed as equivalent" in readme
    assert f"grades the other {len(graded)}" in readme
    assert f"at least {strength.THRESHOLD_PERCENT} % of the {len(graded)} ({strength.needed(len(graded))} of them)" in (
        readme)  # fmt: skip


def test_a_limited_round_is_stopped_and_reported_as_timed_out(helpers: dict[str, ModuleType]) -> None:
    wait_within = helpers["suite_runner"].wait_within
    for lasts, limit, outcome in ((30.0, 0.3, (-9, True)), (0.0, 30.0, (0, False)), (0.0, None, (0, False))):
        child = os.fork()
        if child == 0:
            time.sleep(lasts)
            os._exit(0)
        assert wait_within(child, limit) == outcome
