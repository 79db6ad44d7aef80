"""The arguments each query is called with: drawn from the run's seed, and chosen to hit the cases that matter
(a customer with thousands of orders and one with none, a page boundary inside a run of equal timestamps...)."""

from __future__ import annotations

import datetime
import random

from labkit.errors import HarnessError
from tuning_queries import ORDERS_PAGE
from tuning_session import TuningSession

UTC = datetime.UTC
FIRST_DAY = datetime.date(2023, 1, 2)  # the data runs from 2023-01-01 to 2024-06-04
LAST_DAY = datetime.date(2024, 6, 3)
DAY_WITHOUT_ORDERS = datetime.date(2022, 12, 31)
PAGE = 50
# The dataset is generated from a fixed seed: these are the customers whose ten newest orders (and the eleventh)
# include two with the same created_at, so that only the tie-break by id decides their order.
CUSTOMERS_WITH_TIED_ORDERS = (545, 5518, 35471, 38014, 63366, 78166)
TIE_AMONG_NEWEST = """SELECT count(*) - count(DISTINCT created_at) FROM (
    SELECT created_at FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 11) AS newest"""
AN_ORDER_AT = "SELECT count(*) FROM orders WHERE created_at = $1"
FIRST_ORDER_OF_STORE = "SELECT min(created_at) FROM orders WHERE store_id = $1 AND created_at >= $2"


def random_day(rng: random.Random) -> datetime.date:
    return FIRST_DAY + datetime.timedelta(days=rng.randint(0, (LAST_DAY - FIRST_DAY).days))


def day_bounded_by_orders(tuning: TuningSession, rng: random.Random) -> datetime.date:
    """A random day with an order at its own midnight and one at the next: both ends of the range are probed."""
    for _ in range(100):
        day = random_day(rng)
        midnights = [datetime.datetime.combine(day + datetime.timedelta(days=n), datetime.time(), UTC) for n in (0, 1)]
        if all(tuning.oracle_rows(AN_ORDER_AT, ("timestamptz",), (at,))[0][0] for at in midnights):
            return day
    raise HarnessError("no day of the dataset has orders at both of its midnights: has dataset.sql changed?")


def emails(tuning: TuningSession, rng: random.Random) -> list[str]:
    """Three customers' emails typed in another case than stored, and one that belongs to nobody."""
    ids = sorted(rng.sample(range(1, 100_001), 3))
    rows = tuning.oracle_rows("SELECT email FROM customers WHERE id = ANY($1) ORDER BY id", ("bigint[]",), (ids,))
    typed = [rows[0][0].lower(), rows[1][0].upper(), rows[2][0].swapcase()]
    return [*typed, "nobody.here@example.com"]


def customers(rng: random.Random) -> list[int]:
    """An ordinary customer (a handful of orders), one without orders, and one of the three busiest (thousands)."""
    return [rng.randint(60_000, 95_000), rng.randint(95_001, 100_000), rng.randint(1, 3)]


def customer_with_tied_orders(tuning: TuningSession, rng: random.Random) -> int:
    """A customer whose newest orders include two at the same minute: the tie-break by id decides their order."""
    customer = rng.choice(CUSTOMERS_WITH_TIED_ORDERS)
    if not tuning.oracle_rows(TIE_AMONG_NEWEST, ("bigint",), (customer,))[0][0]:
        raise HarnessError(f"customer {customer} has no tie among their newest orders: has dataset.sql changed?")
    return customer


def page_after_a_tie(tuning: TuningSession, skip: int) -> tuple[int, datetime.datetime, int]:
    """Arguments for the page that follows a row sharing its created_at with the next one, near position ``skip``.

    The original's rows for that page come from the same ORDER BY with a wider window, so they are remembered as
    its reference answer without a second deep OFFSET scan.
    """
    window = tuning.oracle_rows(ORDERS_PAGE.original.replace("LIMIT 50", "LIMIT 200"), ("bigint",), (skip,))
    last = next(i for i in range(len(window) - PAGE - 1) if window[i][3] == window[i + 1][3])
    boundary = window[last]
    values = (skip + last + 1, boundary[3], boundary[0])
    tuning.remember_reference(ORDERS_PAGE, values, window[last + 1 : last + 1 + PAGE])
    return values


def quarter(tuning: TuningSession, rng: random.Random) -> tuple[int, datetime.datetime, datetime.datetime]:
    return _store_range(tuning, rng, months=3)


def year(tuning: TuningSession, rng: random.Random) -> tuple[int, datetime.datetime, datetime.datetime]:
    return _store_range(tuning, rng, months=12)


def _store_range(
    tuning: TuningSession, rng: random.Random, months: int
) -> tuple[int, datetime.datetime, datetime.datetime]:
    """A store over about ``months`` months, from the time of its first order of a month (which counts) until the
    time of its first order of a later month (which does not): both bounds of the range are probed."""
    store, start = rng.randint(1, 200), rng.randint(0, 17 - months)  # months after 2023-01
    end = start + months
    first = datetime.datetime(2023 + start // 12, 1 + start % 12, 1, tzinfo=UTC)
    last = datetime.datetime(2023 + end // 12, 1 + end % 12, 1, tzinfo=UTC)
    bounds = [tuning.oracle_rows(FIRST_ORDER_OF_STORE, ("integer", "timestamptz"), (store, at))[0][0] or at
              for at in (first, last)]  # fmt: skip
    return store, bounds[0], bounds[1]


def before_the_data(rng: random.Random) -> tuple[int, datetime.datetime, datetime.datetime]:
    return rng.randint(1, 200), datetime.datetime(2022, 1, 1, tzinfo=UTC), datetime.datetime(2022, 7, 1, tzinfo=UTC)
