"""The seven queries of the lab: the file the learner writes, its parameters, its columns, and the slow original
whose results it must reproduce. The README documents each one in the same terms."""

from __future__ import annotations

from dataclasses import dataclass

from rowdiff import show


@dataclass(frozen=True)
class QuerySpec:
    name: str
    params: tuple[tuple[str, str], ...]  # ($n name, PostgreSQL type), in order
    columns: tuple[str, ...]
    ordered: bool  # the original has an ORDER BY that fixes the row order completely
    original: str

    @property
    def file(self) -> str:
        return f"queries/{self.name}.sql"

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(kind for _, kind in self.params)

    def describe(self, values: tuple[object, ...]) -> str:
        """``orders_on_day(day='2023-05-01')``: the query with the arguments of one call."""
        args = ", ".join(f"{name}={show(value)}" for (name, _), value in zip(self.params, values, strict=True))
        return f"{self.name}({args})"


CUSTOMER_BY_EMAIL = QuerySpec(
    name="customer_by_email",
    params=(("email", "text"),),
    columns=("id", "email", "name"),
    ordered=False,
    original="SELECT id, email, name FROM customers WHERE lower(email) = lower($1)",
)

ORDERS_ON_DAY = QuerySpec(
    name="orders_on_day",
    params=(("day", "date"),),
    columns=("id", "customer_id", "total_cents", "created_at"),
    ordered=True,
    original="SELECT id, customer_id, total_cents, created_at FROM orders WHERE created_at::date = $1 ORDER BY id",
)

RECENT_ORDERS = QuerySpec(
    name="recent_orders",
    params=(("customer_id", "bigint"),),
    columns=("id", "status", "total_cents", "created_at"),
    ordered=True,
    original=(
        "SELECT id, status, total_cents, created_at FROM orders WHERE customer_id = $1 "
        "ORDER BY created_at DESC, id DESC LIMIT 10"
    ),
)

ORDERS_PAGE = QuerySpec(
    name="orders_page",
    params=(("page_offset", "bigint"), ("after_created_at", "timestamptz"), ("after_id", "bigint")),
    columns=("id", "customer_id", "total_cents", "created_at"),
    ordered=True,
    original=(
        "SELECT id, customer_id, total_cents, created_at FROM orders "
        "ORDER BY created_at DESC, id DESC LIMIT 50 OFFSET $1"
    ),
)

CUSTOMER_ACTIVITY = QuerySpec(
    name="customer_activity",
    params=(("country", "text"),),
    columns=("id", "name", "order_count", "last_order_at"),
    ordered=True,
    original=(
        "SELECT c.id, c.name, "
        "(SELECT count(*) FROM orders AS o WHERE o.customer_id = c.id) AS order_count, "
        "(SELECT max(o.created_at) FROM orders AS o WHERE o.customer_id = c.id) AS last_order_at "
        "FROM customers AS c WHERE c.country = $1 ORDER BY c.id"
    ),
)

SHIPPING_BACKLOG = QuerySpec(
    name="shipping_backlog",
    params=(),
    columns=("id", "customer_id", "store_id", "created_at"),
    ordered=True,
    original=(
        "SELECT id, customer_id, store_id, created_at FROM orders WHERE status = 'paid' "
        "ORDER BY created_at, id LIMIT 50"
    ),
)

STORE_REVENUE = QuerySpec(
    name="store_revenue",
    params=(("store_id", "integer"), ("from", "timestamptz"), ("until", "timestamptz")),
    columns=("orders", "revenue_cents"),
    ordered=True,
    original=(
        "SELECT count(*) AS orders, sum(total_cents) AS revenue_cents FROM orders "
        "WHERE store_id = $1 AND created_at >= $2 AND created_at < $3"
    ),
)

QUERIES = (
    CUSTOMER_BY_EMAIL,
    ORDERS_ON_DAY,
    RECENT_ORDERS,
    ORDERS_PAGE,
    CUSTOMER_ACTIVITY,
    SHIPPING_BACKLOG,
    STORE_REVENUE,
)
