"""Stage 2: every family follows the Prometheus naming conventions (promtool's promlint rules)."""

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
        fail(
            f"{len(findings)} naming finding(s), as promtool check metrics reports them",
            expected="no finding",
            got="\n".join(str(finding) for finding in findings),
            hint="README.md, Naming rules: each message says what to change",
        )


def check_required_labels(shop, rng: random.Random):
    """The required families carry their labels: method, route and status; method and route"""
    send(shop, user(rng))
    exposition = scrape(shop)
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
