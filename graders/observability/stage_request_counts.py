"""Stage 3: the request counter goes up by exactly the requests served, per method, route and status."""

import random
from collections import Counter

from exposition import REQUESTS, Exposition, Totals, delta, scrape
from labkit.checks import fail
from traffic import mixed, orders_at_the_bounds, send_all, tally

KEY_LABELS = ("method", "route", "status")
SAMPLE = f"{REQUESTS}_total"
HINT = (
    "count every request once, before its response is sent, by its route template; one set of counters for the "
    "whole service, whatever serves the request"
)


def counts(exposition: Exposition) -> Totals:
    return exposition.sum_by(SAMPLE, KEY_LABELS)


def expect_delta(before: Exposition, after: Exposition, expected: Counter[tuple[str, ...]]) -> None:
    old, new = counts(before), counts(after)
    keys = sorted(set(expected) | {key for key in new if delta(old, new, key)})
    wrong = [
        f"{SAMPLE}{{method={k[0]!r}, route={k[1]!r}, status={k[2]!r}}}: expected +{expected[k]:g}, "
        f"got +{delta(old, new, k):g}"
        for k in keys
        if delta(old, new, k) != expected[k]
    ]
    if wrong:
        fail(
            f"{len(wrong)} series of {SAMPLE} did not go up by the requests served",
            expected="\n".join(f"+{n} for {k}" for k, n in sorted(expected.items())),
            got="\n".join(wrong),
            hint=HINT,
        )


def check_counts_by_method_route_and_status(shop, rng: random.Random):
    """After a seeded mix of requests, each (method, route, status) series went up by exactly its requests"""
    calls = mixed(rng, users=rng.randint(10, 14), unmatched_calls=rng.randint(4, 6), ok=3, invalid=3, failing=2)
    before = scrape(shop)
    send_all(shop, calls)
    expect_delta(before, scrape(shop), tally(calls))


def check_scrapes_agree_and_add_up_again(shop, rng: random.Random):
    """Two scrapes without traffic agree, and a second batch of requests adds up exactly again"""
    first, second = scrape(shop), scrape(shop)
    expect_delta(first, second, Counter())
    calls = mixed(rng, users=rng.randint(11, 16), unmatched_calls=2, ok=2, invalid=1, failing=1)
    send_all(shop, calls)
    expect_delta(second, scrape(shop), tally(calls))


def check_orders_at_the_bounds(shop, rng: random.Random):
    """Orders on both sides of each bound (item 1 to 64 characters, quantity 1 to 100) get 200 or 400, counted"""
    calls = orders_at_the_bounds(rng)
    before = scrape(shop)
    send_all(shop, calls)
    expect_delta(before, scrape(shop), tally(calls))
