"""Stage 2: every required column refuses NULL with 23502, even the ones that have a default."""

from collections.abc import Sequence
from decimal import Decimal

from marketplace import PAID_AT, insert_statement
from writes import Probe, expect_probes


def null_probes(table: str, values: dict[str, object], required: Sequence[str]) -> list[Probe]:
    """One insert per required column: a valid row except for an explicit NULL in that column."""
    probes: list[Probe] = []
    for column in required:
        statement, params = insert_statement(table, {**values, column: None})
        probes.append(
            Probe(
                f"{table}.{column} is required",
                statement,
                params,
                expect=("23502",),
                hint=f"declare {table}.{column} NOT NULL (a default does not stop an explicit NULL)",
            )
        )
    return probes


def check_every_required_column_refuses_null(app, world):
    """Inserting NULL into any required column fails with 23502 not_null_violation"""
    now = "2026-03-01 12:00:00+00"
    probes = [
        *null_probes(
            "users",
            {"email": "nulls@example.com", "full_name": "Nu Ll", "created_at": now},
            ("email", "full_name", "created_at"),
        ),
        *null_probes(
            "products",
            {
                "seller_id": world.seller,
                "sku": "NULL-1",
                "title": "Lamp",
                "price": Decimal("1.00"),
                "stock": 1,
                "created_at": now,
            },
            ("seller_id", "sku", "title", "price", "stock", "created_at"),
        ),
        *null_probes(
            "orders",
            {"buyer_id": world.buyer, "status": "pending", "created_at": now},
            ("buyer_id", "status", "created_at"),
        ),
        *null_probes(
            "order_lines",
            {"order_id": world.order, "product_id": world.desk, "quantity": 1, "unit_price": Decimal("149.00")},
            ("order_id", "product_id", "quantity", "unit_price"),
        ),
        *null_probes(
            "payments",
            {"order_id": world.order, "amount": Decimal("1.00"), "provider_ref": "pay_null", "paid_at": PAID_AT},
            ("order_id", "amount", "provider_ref", "paid_at"),
        ),
        *null_probes(
            "reviews",
            {"user_id": world.seller, "product_id": world.desk, "rating": 3, "created_at": now},
            ("user_id", "product_id", "rating", "created_at"),
        ),
    ]
    expect_probes(app, probes)
