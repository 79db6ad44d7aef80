"""The grader-truth table README.md publishes: per lab, how far its grader is proven.

Rules traced (graders/<lab>/trace.toml), broken scenarios and alternative solutions in the kit's tests, and the
last full mutation run's figures (graders/<lab>/sensitivity.json, `labkit mutate LAB --record`). A lab whose
recorded figures were measured on another grader or solution than today's is stale: the kit's tests say so.
"""

from __future__ import annotations

from labkit.catalog import Catalog, Lab
from labkit.mutation import fingerprint, load_summary, recorded_verdicts, sensitivity
from labkit.trace import load_trace

README_MARKERS = ("<!-- grader-truth:start -->", "<!-- grader-truth:end -->")
HEADER = (
    "| lab | README rules exercised by checks | broken scenarios | alternative solutions | mutants killed "
    "| equivalent or out of reach | survived | sensitivity |\n|---|---|---|---|---|---|---|---|\n"
)


def truth_table(catalog: Catalog) -> str:
    return HEADER + "".join(_row(catalog, lab) for lab in catalog.labs)


def _row(catalog: Catalog, lab: Lab) -> str:
    tests = catalog.root / "tests"
    scenarios = len([p for p in (tests / "scenarios" / lab.id).glob("*/scenario.toml")])
    alternatives = len([p for p in (tests / "alternatives" / lab.id).glob("*") if p.is_dir()])
    trace = load_trace(lab)
    rules = "not traced yet" if trace is None else f"{len(trace.checked)} of {len(trace.rules)}"
    verdicts = list(recorded_verdicts(lab).values())
    if not verdicts:
        figures = ["not measured yet", "", "", ""]
    else:
        caught = sum(1 for v in verdicts if v in ("killed", "timeout"))
        reviewed = sum(1 for v in verdicts if v in ("equivalent", "out_of_reach"))
        share = sensitivity(verdicts)
        figures = [f"{caught} of {len(verdicts)}", str(reviewed), str(verdicts.count("survived")),
                   "n/a" if share is None else f"{share:.0%}"]  # fmt: skip
    return "| " + " | ".join([lab.id, rules, str(scenarios), str(alternatives), *figures]) + " |\n"


def stale_labs(catalog: Catalog) -> list[str]:
    """Labs whose recorded mutation figures were measured on other grader or solution files than today's."""
    stale = []
    for lab in catalog.labs:
        summary = load_summary(lab)
        if summary is not None and summary.get("fingerprint") != fingerprint(lab):
            stale.append(lab.id)
    return stale
