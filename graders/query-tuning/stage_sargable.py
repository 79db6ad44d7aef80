"""Stage 2: a function wrapped around an indexed column hides it from the index."""

from tuning_params import DAY_WITHOUT_ORDERS, day_bounded_by_orders, emails, random_day
from tuning_queries import CUSTOMER_BY_EMAIL, ORDERS_ON_DAY

EMAIL_BUFFERS = 16
DAY_BUFFERS = 300


def check_customer_by_email_returns_the_original_rows(tuning, rng):
    """customer_by_email finds the customer whatever the case of the email"""
    for email in emails(tuning, rng):
        tuning.expect_same_rows(CUSTOMER_BY_EMAIL, (email,), hint="the match is case-insensitive, as lower() makes it")


def check_customer_by_email_uses_an_index(tuning, rng):
    """customer_by_email reads customers through an index"""
    plan = tuning.plan(CUSTOMER_BY_EMAIL, (emails(tuning, rng)[0],))
    hint = "an index on email cannot answer lower(email) = ...: index the expression lower(email) itself"
    plan.forbid_seq_scan("customers", hint)
    plan.expect_buffers_at_most(EMAIL_BUFFERS, hint)


def check_orders_on_day_returns_the_original_rows(tuning, rng):
    """orders_on_day returns the orders of a UTC day, by id, from its midnight (included) to the next (excluded)"""
    for day in (day_bounded_by_orders(tuning, rng), day_bounded_by_orders(tuning, rng), DAY_WITHOUT_ORDERS):
        tuning.expect_same_rows(
            ORDERS_ON_DAY, (day,), hint="a day runs from its midnight (included) to the next midnight (excluded), UTC"
        )


def check_orders_on_day_reads_one_day_of_an_index(tuning, rng):
    """orders_on_day reads one day's range of an index, not the whole table"""
    plan = tuning.plan(ORDERS_ON_DAY, (random_day(rng),))
    hint = "created_at::date = $1 must convert every row first: compare created_at itself with the day's bounds"
    plan.forbid_seq_scan("orders", hint)
    plan.expect_buffers_at_most(DAY_BUFFERS, hint)
