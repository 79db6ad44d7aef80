"""Stage 5: one query instead of one per customer: no correlated subqueries, customers without orders kept."""

from tuning_queries import CUSTOMER_ACTIVITY

BUFFERS = 3200


def check_customer_activity_returns_the_original_rows(tuning):
    """customer_activity lists every customer of a country, those without orders too"""
    for country in ("IS", "MT", "XX"):
        tuning.expect_same_rows(
            CUSTOMER_ACTIVITY,
            (country,),
            hint="a customer without orders still appears, with order_count 0 and last_order_at NULL",
        )


def check_customer_activity_has_no_correlated_subquery(tuning):
    """customer_activity reads each customer's orders once, in one plan without SubPlans"""
    plan = tuning.plan(CUSTOMER_ACTIVITY, ("IS",))
    hint = (
        "each scalar subquery in the SELECT list runs once per customer: compute count and max together, in a "
        "LEFT JOIN LATERAL or a LEFT JOIN with GROUP BY"
    )
    plan.forbid_subplans(hint)
    plan.forbid_seq_scan("orders", hint)
    plan.expect_buffers_at_most(
        BUFFERS, "count(*) and max(created_at) per customer can come from an index alone, without visiting orders"
    )
