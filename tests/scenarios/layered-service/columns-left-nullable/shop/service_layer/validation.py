"""The argument rules of the use cases: every one refused with InvalidInput before anything is looked up."""

from __future__ import annotations

import re
from typing import Any

from shop.domain.errors import InvalidInput

SKU = re.compile(r"[A-Z0-9-]{1,32}")
MAX_NAME = 100
MAX_PRICE_CENTS = 10_000_000
MAX_STOCK = 1_000_000
MAX_RESTOCK = 1_000_000
MAX_LINES = 20
MAX_LINE_QUANTITY = 1_000


def sku(value: Any) -> str:
    if type(value) is not str or not SKU.fullmatch(value):
        raise InvalidInput(f"sku must be 1 to 32 characters A-Z, 0-9 or '-', got {value!r}")
    return value


def name(value: Any) -> str:
    if type(value) is not str or not 1 <= len(value) <= MAX_NAME or not value.strip():
        raise InvalidInput(f"name must be 1 to {MAX_NAME} characters, not all spaces")
    return value


def integer(value: Any, what: str, low: int, high: int) -> int:
    # bool is a subclass of int, and True is no quantity
    if type(value) is not int or not low <= value <= high:
        raise InvalidInput(f"{what} must be an integer from {low} to {high}, got {value!r}")
    return value


def order_lines(value: Any) -> list[tuple[str, int]]:
    if type(value) is not list or not 1 <= len(value) <= MAX_LINES:
        raise InvalidInput(f"lines must be a list of 1 to {MAX_LINES} lines")
    lines = []
    for line in value:
        if type(line) is not dict or set(line) != {"sku", "quantity"}:
            raise InvalidInput("each line must be an object with exactly sku and quantity")
        lines.append((sku(line["sku"]), integer(line["quantity"], "a line's quantity", 1, MAX_LINE_QUANTITY)))
    skus = [line_sku for line_sku, _ in lines]
    if len(set(skus)) != len(skus):
        raise InvalidInput("an order names each sku at most once")
    return lines


def order_id(value: Any) -> str:
    if type(value) is not str:
        raise InvalidInput(f"an order id is a string, got {value!r}")
    return value
