"""The README's validation table as cases on both sides of every limit, shared by the HTTP and fake stages.

Skus and names come from the check's seeded ``rng``, so a run replays exactly with its seed."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any

SKU_CHARS = string.ascii_uppercase + string.digits + "-"
MAX_LINES = 20
UNLISTED = "UNLISTED-1"  # no product has it: past a limit, InvalidInput must win over UnknownProduct


@dataclass(frozen=True)
class Case:
    use_case: str  # "add_product", "restock" or "place_order"
    args: dict[str, Any]
    valid: bool
    label: str


@dataclass
class Catalog:
    """Products a check creates first; the cases order from them and restock them."""

    products: list[dict[str, Any]] = field(default_factory=list)

    @property
    def skus(self) -> list[str]:
        return [product["sku"] for product in self.products]


def sku(rng: random.Random, length: int = 8, prefix: str = "") -> str:
    first = rng.choice(string.ascii_uppercase[:20])  # below "Z": the transactions stage's poisoned sku sorts last
    return (prefix + first + "".join(rng.choice(SKU_CHARS) for _ in range(length - 1 - len(prefix))))[:length]


def product(rng: random.Random, stock: int) -> dict[str, Any]:
    name = rng.choice(["Blue mug", "Tea towel", "Oak board", "Steel pan", "Linen apron", "Glass jar"])
    return {
        "sku": sku(rng),
        "name": f"{name} {rng.randint(10, 99)}",
        "price_cents": rng.randint(150, 9999),
        "stock": stock,
    }


def catalog(rng: random.Random, stock: tuple[int, int] = (2000, 5000)) -> Catalog:
    """Enough products for the longest order; the default stock lets every valid case order 1000 of one."""
    skus: set[str] = set()
    products: list[dict[str, Any]] = []
    while len(products) < MAX_LINES:
        candidate = product(rng, stock=rng.randint(*stock))
        if candidate["sku"] not in skus:
            skus.add(candidate["sku"])
            products.append(candidate)
    return Catalog(products)


def cases(rng: random.Random, shop: Catalog) -> list[Case]:
    return (
        _product_cases(rng)
        + _restock_cases(shop)
        + _order_cases(shop)
        + _precedence_cases(shop)
        + _edge_cases(rng, shop)
    )


def service_only_cases() -> list[Case]:
    """Arguments a URL cannot carry: an order id that is not a string."""
    return [
        Case("get_order", {"order_id": 42}, False, "an order id that is a number"),
        Case("cancel_order", {"order_id": None}, False, "an order id null"),
    ]


def _precedence_cases(shop: Catalog) -> list[Case]:
    """InvalidInput wins over the lookups and the state rules; a lookup's argument is validated too."""
    existing, first = shop.products[3], shop.skus[1]
    return [
        Case("get_product", {"sku": existing["sku"].lower() + "a"}, False, "get_product of a lower-case sku"),
        Case("add_product", {**existing, "price_cents": 0}, False, "an existing sku and price_cents 0"),
        Case("restock", {"sku": UNLISTED, "quantity": 0}, False, "an unknown sku and a quantity of 0"),
        Case(
            "place_order",
            {"lines": [{"sku": UNLISTED, "quantity": 1}, {"sku": first, "quantity": 0}]},
            False,
            "an unknown sku, then a quantity of 0",
        ),
        Case("place_order", {"lines": [[first, 1]]}, False, "a line that is a list"),
    ]


def _product_cases(rng: random.Random) -> list[Case]:
    def new(label: str, valid: bool, **changes: Any) -> Case:
        args = {**product(rng, stock=7), **changes}
        return Case("add_product", args, valid, label)

    return [
        new("sku of 1 character", True, sku=rng.choice(string.ascii_uppercase[:20])),
        new("sku of 32 characters", True, sku=sku(rng, 32)),
        new("sku of 33 characters", False, sku=sku(rng, 33)),
        new("empty sku", False, sku=""),
        new("sku in lower case", False, sku=sku(rng).lower() + "a"),
        new("sku with a space", False, sku=sku(rng, 4) + " " + sku(rng, 3)),
        new("sku that is a number", False, sku=12345),
        new("sku null", False, sku=None),
        new("name of 1 character", True, name="x"),
        new("name of 100 characters", True, name="n" * 100),
        new("name of 101 characters", False, name="n" * 101),
        new("empty name", False, name=""),
        new("name of spaces only", False, name="   "),
        new("name null", False, name=None),
        new("price_cents 1", True, price_cents=1),
        new("price_cents 10000000", True, price_cents=10_000_000),
        new("price_cents 0", False, price_cents=0),
        new("price_cents 10000001", False, price_cents=10_000_001),
        new("price_cents as a string", False, price_cents="1250"),
        new("price_cents as a float", False, price_cents=12.5),
        new("price_cents true", False, price_cents=True),
        new("stock 0", True, stock=0),
        new("stock 1000000", True, stock=1_000_000),
        new("stock -1", False, stock=-1),
        new("stock 1000001", False, stock=1_000_001),
        new("stock as a string", False, stock="7"),
        new("stock null", False, stock=None),
    ]


def _restock_cases(shop: Catalog) -> list[Case]:
    target = shop.skus[0]

    def restock(label: str, valid: bool, quantity: Any) -> Case:
        return Case("restock", {"sku": target, "quantity": quantity}, valid, label)

    return [
        restock("restock of 1", True, 1),
        restock("restock of 1000000", True, 1_000_000),
        restock("restock of 0", False, 0),
        restock("restock of 1000001", False, 1_000_001),
        restock("restock of -3", False, -3),
        restock("restock of 2.0", False, 2.0),
        restock("restock of true", False, True),
        restock("restock as a string", False, "3"),
    ]


def _order_cases(shop: Catalog) -> list[Case]:
    first, second = shop.skus[1], shop.skus[2]

    def order(label: str, valid: bool, lines: Any) -> Case:
        return Case("place_order", {"lines": lines}, valid, label)

    every = [{"sku": each, "quantity": 1} for each in shop.skus]
    return [
        order("a line of quantity 1", True, [{"sku": first, "quantity": 1}]),
        order("a line of quantity 1000", True, [{"sku": first, "quantity": 1000}]),
        order(f"{MAX_LINES} lines", True, every),
        order("a line of quantity 0", False, [{"sku": first, "quantity": 0}]),
        order("a line of quantity 1001", False, [{"sku": first, "quantity": 1001}]),
        order("a line of quantity true", False, [{"sku": first, "quantity": True}]),
        order("a line of quantity as a string", False, [{"sku": first, "quantity": "2"}]),
        order("no lines", False, []),
        order(f"{MAX_LINES + 1} lines", False, [*every, {"sku": UNLISTED, "quantity": 1}]),
        order("lines that are not a list", False, first),
        order("a line without quantity", False, [{"sku": first}]),
        order("a line with an extra key", False, [{"sku": first, "quantity": 1, "note": "gift"}]),
        order("the same sku twice", False, [{"sku": first, "quantity": 1}, {"sku": first, "quantity": 2}]),
        order(
            "a valid line, then an invalid one", False, [{"sku": second, "quantity": 1}, {"sku": first, "quantity": 0}]
        ),
    ]


def _edge_cases(rng: random.Random, shop: Catalog) -> list[Case]:
    """Characters and types past the obvious ones: a sku is A-Z, 0-9 and - only (ASCII, no trailing newline), a
    name's length counts characters and its blankness any white space, and every integer field refuses other types."""

    def new(label: str, valid: bool, **changes: Any) -> Case:
        return Case("add_product", {**product(rng, stock=7), **changes}, valid, label)

    first = shop.skus[1]
    return [
        new("sku ending in a newline", False, sku=sku(rng, 6) + "\n"),
        new("sku with an underscore", False, sku=sku(rng, 3) + "_" + sku(rng, 3)),
        new("sku with a dot", False, sku=sku(rng, 3) + "." + sku(rng, 3)),
        new("sku with a non-ASCII capital", False, sku=sku(rng, 4) + "\u00c9"),
        new("sku with a non-ASCII digit", False, sku=sku(rng, 4) + "\u0663"),
        new("name of 100 non-ASCII characters", True, name="\u00e9" * 100),
        new("name of tabs and newlines only", False, name="\t\n \r"),
        new("price_cents null", False, price_cents=None),
        new("price_cents 10000001.0", False, price_cents=10_000_001.0),
        new("stock as a float", False, stock=7.0),
        new("stock true", False, stock=True),
        Case("place_order", {"lines": [{"sku": first, "quantity": 2.0}]}, False, "a line of quantity 2.0"),
        Case("place_order", {"lines": [{"sku": first, "quantity": None}]}, False, "a line of quantity null"),
        Case("place_order", {"lines": [{"quantity": 1}]}, False, "a line without sku"),
        Case("place_order", {"lines": [{"sku": first.lower(), "quantity": 1}]}, False, "a line with a lower-case sku"),
    ]
