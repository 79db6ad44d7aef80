"""The messages of shop.proto as plain Python data, so a codec can be driven by a table.

shop.proto is the source of truth; this file says exactly the same thing in a form your code can loop over.
You may use it, change its shape, or ignore it and write your own.
"""

from __future__ import annotations

from typing import NamedTuple


class Field(NamedTuple):
    number: int
    name: str
    type: str  # a scalar type ("int32", "string", ...), a message ("Address") or an enum ("Status")
    repeated: bool = False


SCALAR_TYPES = frozenset(
    {
        "int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool",
        "fixed32", "fixed64", "sfixed32", "sfixed64", "float", "double", "string", "bytes",
    }
)  # fmt: skip

ENUMS: dict[str, dict[int, str]] = {
    "Status": {0: "STATUS_UNSPECIFIED", 1: "PENDING", 2: "PAID", 3: "SHIPPED", 4: "CANCELLED"},
    "CustomerV1.Tier": {0: "TIER_UNSPECIFIED", 1: "BRONZE", 2: "SILVER", 3: "GOLD"},
    "CustomerV2.Tier": {0: "TIER_UNSPECIFIED", 1: "BRONZE", 2: "SILVER", 3: "GOLD", 4: "PLATINUM"},
}

MESSAGES: dict[str, list[Field]] = {
    "Scalars": [
        Field(1, "int32_value", "int32"),
        Field(2, "int64_value", "int64"),
        Field(3, "uint32_value", "uint32"),
        Field(4, "uint64_value", "uint64"),
        Field(5, "sint32_value", "sint32"),
        Field(6, "sint64_value", "sint64"),
        Field(7, "bool_value", "bool"),
        Field(8, "enum_value", "Status"),
        Field(9, "fixed32_value", "fixed32"),
        Field(10, "fixed64_value", "fixed64"),
        Field(11, "sfixed32_value", "sfixed32"),
        Field(12, "sfixed64_value", "sfixed64"),
        Field(13, "float_value", "float"),
        Field(14, "double_value", "double"),
    ],
    "Address": [
        Field(1, "street", "string"),
        Field(2, "city", "string"),
        Field(3, "postal_code", "string"),
        Field(4, "country_code", "string"),
    ],
    "Parcel": [
        Field(1, "label", "string"),
        Field(2, "payload", "bytes"),
        Field(3, "sender", "Address"),
        Field(4, "recipient", "Address"),
        Field(5, "inner", "Parcel"),
        Field(16, "weight_grams", "uint32"),
    ],
    "Lists": [
        Field(1, "int32_values", "int32", repeated=True),
        Field(2, "int64_values", "int64", repeated=True),
        Field(3, "uint32_values", "uint32", repeated=True),
        Field(4, "uint64_values", "uint64", repeated=True),
        Field(5, "sint32_values", "sint32", repeated=True),
        Field(6, "sint64_values", "sint64", repeated=True),
        Field(7, "bool_values", "bool", repeated=True),
        Field(8, "enum_values", "Status", repeated=True),
        Field(9, "fixed32_values", "fixed32", repeated=True),
        Field(10, "fixed64_values", "fixed64", repeated=True),
        Field(11, "sfixed32_values", "sfixed32", repeated=True),
        Field(12, "sfixed64_values", "sfixed64", repeated=True),
        Field(13, "float_values", "float", repeated=True),
        Field(14, "double_values", "double", repeated=True),
        Field(15, "strings", "string", repeated=True),
        Field(16, "blobs", "bytes", repeated=True),
        Field(17, "addresses", "Address", repeated=True),
    ],
    "Money": [
        Field(1, "currency_code", "string"),
        Field(2, "units", "int64"),
        Field(3, "nanos", "int32"),
    ],
    "LineItem": [
        Field(1, "sku", "string"),
        Field(2, "title", "string"),
        Field(3, "quantity", "uint32"),
        Field(4, "unit_price", "Money"),
    ],
    "Order": [
        Field(1, "order_id", "uint64"),
        Field(2, "customer_email", "string"),
        Field(3, "status", "Status"),
        Field(4, "items", "LineItem", repeated=True),
        Field(5, "shipping_address", "Address"),
        Field(6, "tags", "string", repeated=True),
        Field(7, "created_at_ms", "int64"),
        Field(8, "total", "Money"),
        Field(9, "gift", "bool"),
        Field(10, "signature", "bytes"),
        Field(11, "coupon_ids", "uint32", repeated=True),
        Field(12, "price_adjustments", "sint32", repeated=True),
        Field(13, "warehouse_ids", "fixed64", repeated=True),
        Field(16, "note", "string"),
    ],
    "CustomerV1": [
        Field(1, "id", "uint64"),
        Field(2, "name", "string"),
        Field(3, "email", "string"),
        Field(4, "loyalty_points", "int32"),
        Field(5, "tier", "CustomerV1.Tier"),
    ],
    "CustomerV2": [
        Field(1, "id", "uint64"),
        Field(2, "name", "string"),
        Field(4, "loyalty_points", "int64"),
        Field(5, "tier", "CustomerV2.Tier"),
        Field(6, "emails", "string", repeated=True),
        Field(8, "address", "Address"),
        Field(8, "marketing_opt_in", "bool"),
        Field(9, "updated_at_ms", "fixed64"),
        Field(10, "region_id", "fixed32"),
        Field(11, "recent_ratings", "sint32", repeated=True),
        Field(12, "balance", "double"),
    ],
}
