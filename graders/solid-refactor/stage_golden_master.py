"""Stage 2: the golden master. The grader regenerates it on every run from its own pristine copy of the legacy
code, in a process of its own, and compares the learner's quotes with it exactly."""

import orders
from quotes import expect_same_quotes

SEEDED = 2000
ONE_BY_ONE = 40
NAMES_HINT = (
    'names are compared exactly ("Socks" is not socks, "EU" is world); a category no rule names still '
    "earns bulk; a coupon code loses all surrounding white space (tabs and newlines too), then is upper-cased"
)
HINT = "the legacy code is the spec here: compare each threshold exactly as it does (>= or >), round down with //"


def check_every_threshold_on_both_sides(pricer):
    """Orders on both sides of every threshold, and names in other cases or unknown, get the legacy code's quotes"""
    batch = orders.boundary_orders()
    expect_same_quotes(
        batch, pricer.learner(batch), pricer.legacy(batch), source="the legacy code", where="your folder", hint=HINT
    )
    variants = orders.name_variants()
    expect_same_quotes(variants, pricer.learner(variants), pricer.legacy(variants), source="the legacy code",
                       where="your folder", hint=NAMES_HINT, rule_hints=False)  # fmt: skip


def check_thousands_of_seeded_orders(pricer, rng):
    """2,000 orders from the run's seed get the legacy code's quotes"""
    batch = orders.random_orders(rng, SEEDED)
    expect_same_quotes(
        batch, pricer.learner(batch), pricer.legacy(batch), source="the legacy code", where="your folder", hint=HINT
    )


def check_quote_one_order_at_a_time(pricer, rng):
    """quote(), called once per order, answers as the legacy code does"""
    batch = orders.boundary_orders()[::4] + orders.random_orders(rng, ONE_BY_ONE)
    expect_same_quotes(
        batch,
        pricer.one_by_one(batch),
        pricer.legacy(batch),
        source="the legacy code",
        where="your folder, one quote() call per order",
        hint=HINT,
    )
