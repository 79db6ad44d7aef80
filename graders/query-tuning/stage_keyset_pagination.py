"""Stage 4: keyset pagination: the next page starts after the last row seen, however deep it is."""

import datetime
import random

from tuning_params import page_after_a_tie
from tuning_queries import ORDERS_PAGE
from tuning_session import TuningSession

BUFFERS = 40


def pages(tuning: TuningSession, rng: random.Random) -> list[tuple[int, datetime.datetime, int]]:
    return [page_after_a_tie(tuning, rng.randint(100, 5_000)), page_after_a_tie(tuning, rng.randint(300_000, 700_000))]


def check_orders_page_returns_the_next_fifty_orders(tuning, rng):
    """orders_page returns the 50 orders that follow a given one, even when timestamps tie"""
    for values in pages(tuning, rng):
        tuning.expect_same_rows(
            ORDERS_PAGE,
            values,
            hint="rows with the same created_at as the last one seen still follow it when their id is smaller: "
            "compare (created_at, id) together",
        )


def check_a_deep_page_costs_what_the_first_pages_cost(tuning, rng):
    """orders_page reads about 50 index entries even half a million rows deep"""
    values = page_after_a_tie(tuning, rng.randint(300_000, 700_000))
    plan = tuning.plan(ORDERS_PAGE, values)
    hint = (
        "OFFSET n still reads and throws away n rows: seek to the last row seen with a WHERE on (created_at, id) "
        "that an index in the same order can answer"
    )
    plan.forbid_seq_scan("orders", hint)
    plan.forbid_sort(hint)
    plan.expect_buffers_at_most(BUFFERS, hint)
