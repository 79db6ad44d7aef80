"""The solid-refactor spec stays true to itself: the grader's pristine legacy code is the starter the learner gets,
the grader's model of the README's rules quotes exactly as the legacy code does, and every example in the README
is what the legacy code (or, for clearance, the model) answers. The pricing code runs in a child process, so its
top-level module names (``models``, ``pricing``) never meet the kit's own."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from support import KIT

LAB = KIT / "labs" / "solid-refactor"
GRADER = KIT / "graders" / "solid-refactor"

COMPARE = textwrap.dedent(
    """
    import json, random, sys
    sys.path[:0] = [sys.argv[1], sys.argv[1] + "/legacy"]
    import orders, pricing, pricing_model
    seeded = orders.random_orders(random.Random(int(sys.argv[2])), 20000)
    batch = orders.boundary_orders() + orders.name_variants() + seeded
    differ = [o for o in batch if pricing.quote(o) != pricing_model.quote(o, pricing_model.LEGACY_RULES)]
    examples = json.loads(sys.stdin.read())
    answers = [pricing.quote(o) if not any(l["category"] == "clearance" for l in o["lines"])
               else pricing_model.quote(o, pricing_model.ALL_RULES) for o, _ in examples]
    print(json.dumps({"orders": len(batch), "differ": differ[:3], "answers": answers}))
    """
)


def readme_examples() -> list[tuple[object, object]]:
    """Each ``>>> quote(...)`` of the README with the result shown under it."""
    examples, call, result = [], "", ""
    for line in (LAB / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith((">>> ", "... ", "```")):
            if result:
                examples.append((json.loads(call.removeprefix("quote(").removesuffix(")")), json.loads(result)))
                call = result = ""
            if line.startswith((">>> ", "... ")):
                call += line[4:].strip()
        elif call:
            result += line.strip()
    return examples


def test_the_grader_ships_the_starter_as_its_pristine_legacy_code() -> None:
    for name in ("models.py", "pricing.py"):
        assert (GRADER / "legacy" / name).read_bytes() == (LAB / name).read_bytes(), name


def test_the_model_quotes_as_the_legacy_code_and_the_readme_examples_hold() -> None:
    examples = readme_examples()
    assert len(examples) >= 8, "the README's worked examples were not all found"
    done = subprocess.run(
        [sys.executable, "-I", "-c", COMPARE, str(GRADER), "20261205"],
        input=json.dumps(examples),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["orders"] > 20000 and report["differ"] == []
    for (order, shown), answer in zip(examples, report["answers"], strict=True):
        assert answer == shown, order
