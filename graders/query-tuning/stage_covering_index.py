"""Stage 7: a covering index answers a query from the index alone (an Index Only Scan)."""

from tuning_params import before_the_data, quarter, year
from tuning_queries import STORE_REVENUE

BUFFERS = 60


def check_store_revenue_returns_the_original_rows(tuning, rng):
    """store_revenue counts a store's orders and sums their totals over a period, from included, until excluded"""
    for values in (quarter(tuning, rng), year(tuning, rng), before_the_data(rng)):
        tuning.expect_same_rows(
            STORE_REVENUE, values, hint="from is included, until is excluded; a period without orders gives 0 and NULL"
        )


def check_store_revenue_is_an_index_only_scan(tuning, rng):
    """store_revenue never visits the table: an Index Only Scan with no heap fetches"""
    hint = (
        "the index must hold every column the query touches: store_id and created_at as keys, total_cents as an "
        "INCLUDE column"
    )
    for values in (quarter(tuning, rng), year(tuning, rng)):
        plan = tuning.plan(STORE_REVENUE, values)
        plan.require_index_only_scan("orders", hint)
        plan.expect_buffers_at_most(BUFFERS, hint)
