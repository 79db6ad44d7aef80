"""Stage 3: a composite index whose column order matches the query: equality first, then the sort order."""

from tuning_params import customer_with_tied_orders, customers
from tuning_queries import RECENT_ORDERS

BUFFERS = 40


def check_recent_orders_returns_the_original_rows(tuning, rng):
    """recent_orders returns a customer's ten latest orders, newest first, ties by id, highest first"""
    for customer in [*customers(rng), customer_with_tied_orders(tuning, rng)]:
        tuning.expect_same_rows(
            RECENT_ORDERS, (customer,), hint="newest first; orders with the same created_at go by id, highest first"
        )


def check_recent_orders_reads_ten_index_entries(tuning, rng):
    """recent_orders reads the ten rows in order from one index, for busy and quiet customers alike"""
    hint = (
        "put the column compared with = first and the ORDER BY columns after it, in the same order, so the index "
        "hands over this customer's newest ten rows and stops"
    )
    for customer in customers(rng):
        plan = tuning.plan(RECENT_ORDERS, (customer,))
        plan.forbid_seq_scan("orders", hint)
        plan.forbid_sort(hint)
        plan.expect_buffers_at_most(BUFFERS, hint)
