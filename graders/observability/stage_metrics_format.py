"""Stage 1: /metrics speaks the strict OpenMetrics format and holds the two required families."""

import random

from exposition import DURATION, REQUESTS, scrape
from labkit.checks import fail
from traffic import checkout, send, user


def check_metrics_parse_strictly(shop, rng: random.Random):
    """GET /metrics answers 200 in the OpenMetrics text format, accepted by the strict parser"""
    send(shop, user(rng))
    scrape(shop)


def check_required_families(shop, rng: random.Random):
    """http_server_requests is a counter and http_server_request_duration_seconds a histogram"""
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
