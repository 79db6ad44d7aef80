"""Stage 4: request durations go into a histogram in seconds, with the README's buckets."""

import random
from collections import Counter

from downstream import SLOW_S
from exposition import BUCKETS, DURATION, REQUESTS, Exposition, delta, scrape
from labkit.checks import fail
from traffic import CHECKOUT, mixed, send, send_all, slow_checkout

ROUNDING = 1e-6  # the relative slack of a _sum added up in floating point
LOADED_MACHINE_S = 2.5  # the slow request must be counted by this bucket, however loaded the machine
SUM_CEILING_S = 10.0  # more than this for one 0.3 s request means milliseconds
HINT = "observe seconds (time.perf_counter() differences), into exactly the README's buckets"


def bounds(exposition: Exposition) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for family in exposition.families:
        for sample in family.samples:
            if sample.name == f"{DURATION}_bucket":
                key = (sample.labels.get("method", ""), sample.labels.get("route", ""))
                found.setdefault(key, []).append(sample.labels["le"])
    return found


def check_buckets_are_the_listed_seconds(shop, rng: random.Random):
    """Every histogram series has exactly the buckets 0.005 ... 10 and +Inf"""
    send_all(shop, mixed(rng, users=2, unmatched_calls=1, ok=1, invalid=1, failing=0))
    found = bounds(scrape(shop))
    if not found:
        fail(f"{DURATION} has no _bucket sample", hint="README.md, Metrics: the histogram and its buckets")
    for (method, route), les in sorted(found.items()):
        if sorted({float(le) for le in les}) != sorted(BUCKETS):
            fail(
                f"the buckets of {DURATION}{{method={method!r}, route={route!r}}} are not the README's",
                expected="le = 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, +Inf (seconds)",
                got="le = " + ", ".join(les),
                hint=HINT,
            )


def check_slow_request_lands_in_its_bucket(shop, rng: random.Random):
    """A checkout whose downstream takes 0.3 s counts above le=0.25, and adds at least 0.3 to _sum"""
    where = {"method": "POST", "route": CHECKOUT}
    before = scrape(shop)
    send(shop, slow_checkout(rng))
    after = scrape(shop)
    old, new = (exposition.sum_by(f"{DURATION}_bucket", ("le",), where) for exposition in (before, after))
    added = {float(le): delta(old, new, (le,)) for (le,) in new}
    shown = ", ".join(f'le="{le:g}": +{n:g}' for le, n in sorted(added.items()))
    early = [le for le, n in added.items() if le <= 0.25 and n]
    if early or not any(n == 1 for le, n in added.items() if le == LOADED_MACHINE_S):
        fail(
            f'a {SLOW_S:g} s request was not counted in the buckets above le="0.25"',
            expected='+0 in le="0.25" and below, +1 in le="0.5" (allowed: le="1" or le="2.5" on a loaded machine)',
            got=shown or f"no bucket of {DURATION}{{method='POST', route='/checkout'}}",
            hint=HINT,
        )
    grown = delta(before.sum_by(f"{DURATION}_sum", (), where), after.sum_by(f"{DURATION}_sum", (), where), ())
    if not SLOW_S <= grown <= SUM_CEILING_S:
        fail(
            f"{DURATION}_sum grew by {grown:g} for one {SLOW_S:g} s request",
            expected=f"between {SLOW_S:g} and {SUM_CEILING_S:g} (seconds)",
            got=f"+{grown:g}",
            hint=HINT,
        )


def check_count_grows_by_the_requests(shop, rng: random.Random):
    """_count of each (method, route) goes up by exactly its requests"""
    calls = mixed(rng, users=rng.randint(10, 13), unmatched_calls=3, ok=2, invalid=2, failing=1)
    before = scrape(shop)
    send_all(shop, calls)
    after = scrape(shop)
    expected: Counter[tuple[str, ...]] = Counter((call.method, call.route) for call in calls)
    sample = f"{DURATION}_count"
    old, new = before.sum_by(sample, ("method", "route")), after.sum_by(sample, ("method", "route"))
    keys = sorted(set(expected) | {key for key in new if delta(old, new, key)})
    wrong = [
        f"{k}: expected +{expected[k]}, got +{delta(old, new, k):g}" for k in keys if delta(old, new, k) != expected[k]
    ]
    if wrong:
        fail(
            f"{sample} did not go up by the requests served",
            expected="\n".join(f"+{n} for {k}" for k, n in sorted(expected.items())),
            got="\n".join(wrong),
            hint="observe every request once, in the series of its method and route",
        )
    expect_totals_from_zero(after)


def sum_bounds(cumulative: list[tuple[float, float]]) -> tuple[float, float]:
    """The least and greatest _sum that cumulative bucket counts [(le, count), ...] allow: every observation in
    bucket (lower, le] adds between lower and le."""
    least = greatest = 0.0
    lower, below = 0.0, 0.0
    for le, count in sorted(cumulative):
        if count != below:  # an empty +Inf bucket adds nothing (not 0 * inf)
            least += (count - below) * lower
            greatest += (count - below) * le
        lower, below = le, count
    return least, greatest


def expect_totals_from_zero(exposition: Exposition) -> None:
    """Absolute values: every series started at 0, so the counter, _count, the buckets and _sum agree."""
    by = ("method", "route")
    requests = exposition.sum_by(f"{REQUESTS}_total", by)
    counts, sums = exposition.sum_by(f"{DURATION}_count", by), exposition.sum_by(f"{DURATION}_sum", by)
    buckets = exposition.sum_by(f"{DURATION}_bucket", (*by, "le"))
    wrong = []
    for key in sorted(set(requests) | set(counts)):
        cumulative = [(float(le), n) for (*series, le), n in buckets.items() if tuple(series) == key]
        least, greatest = sum_bounds(cumulative)
        slack = ROUNDING * max(1.0, greatest if greatest < float("inf") else least)
        total, count = sums.get(key, 0.0), counts.get(key, 0.0)
        if requests.get(key, 0.0) != count:
            wrong.append(f"{key}: {REQUESTS}_total adds up to {requests.get(key, 0.0):g}, {DURATION}_count {count:g}")
        if any(n < 0 for _, n in cumulative) or max((n for _, n in cumulative), default=0.0) != count:
            wrong.append(
                f"{key}: buckets {', '.join(f'le={le:g}: {n:g}' for le, n in sorted(cumulative))}, _count {count:g}"
            )
        elif not least - slack <= total <= greatest + slack:
            wrong.append(f"{key}: _sum {total:g}, but the buckets allow {least:g} to {greatest:g}")
    if wrong:
        fail(
            f"the absolute values of {REQUESTS} and {DURATION} do not agree",
            expected="every series starts at 0: per method and route, the counter summed over status equals _count, "
            "the +Inf bucket equals _count, no bucket is negative, and _sum is what the buckets allow",
            got="\n".join(wrong),
            hint="start counters, bucket counts, _count and _sum at 0, and count each request once in each",
        )
