"""Stage 2: every family follows the Prometheus naming conventions (promtool's promlint rules), and the two
required families are there with their types and labels."""

import random

from exposition import DURATION, REQUESTS, scrape
from labkit.checks import fail
from promlint import lint
from traffic import checkout, send, user

REQUIRED_LABELS = {REQUESTS: {"method", "route", "status"}, DURATION: {"method", "route"}}


def check_names_follow_conventions(shop, rng: random.Random):
    """Every family has help text, a snake_case name in base units, no type in its name, _total only on counters"""
    send(shop, user(rng))
    send(shop, checkout(rng))
    findings = lint(scrape(shop).families)
    if findings:
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        fail(
            f"{findings[0]}{more}",
            expected="no finding of promtool check metrics' naming rules",
            got="\n".join(str(finding) for finding in findings),
            hint="README.md, Naming rules: each message says what to change",
        )


def check_required_families(shop, rng: random.Random):
    """http_server_requests is a counter with method, route and status; the duration a histogram with method, route"""
    send(shop, user(rng))
    send(shop, checkout(rng))
    exposition = scrape(shop)
    found = ", ".join(f"{family.name} ({family.type})" for family in exposition.families) or "no family"
    for name, kind in ((REQUESTS, "counter"), (DURATION, "histogram")):
        family = exposition.family(name)
        if family is None or family.type != kind or not family.samples:
            fail(
                f"/metrics has no {kind} {name} with samples",
                expected=f"a family {name} of type {kind}, with samples once requests were served",
                got=found,
                hint="README.md, Metrics: the two required families, their names, types and labels",
            )
    for name, labels in REQUIRED_LABELS.items():
        family = exposition.family(name)
        have = {label for sample in family.samples for label in sample.labels} if family else set()
        missing = labels - have
        if missing:
            fail(
                f"{name} lacks the label(s) {', '.join(sorted(missing))}",
                expected=f"labels {', '.join(sorted(labels))}",
                got=", ".join(sorted(have - {"le"})) or "no label",
                hint="README.md, Metrics: a series per method, route (and status for the counter)",
            )
