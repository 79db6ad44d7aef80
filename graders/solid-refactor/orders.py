"""Orders for the golden master: seeded random ones, and hand-made ones on both sides of every README threshold."""

from __future__ import annotations

import random
from typing import Any

Order = dict[str, Any]
CATEGORIES = ("books", "tools", "toys", "socks", "gift-card")
TIERS = ("regular", "silver", "gold", "platinum")
ZONES = ("home", "eu", "world", "moon")
COUPONS = ("", "SAVE10", " save10 ", "TENPERCENT", "tenPercent", "FREESHIP", "freeship ", "SAVE20", "10PERCENT")
QUANTITIES = (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 15, 30, 49, 50, 51, 99, 150)
PRICES = (1, 5, 19, 99, 250, 495, 999, 1250, 1499, 2000, 4999, 5000, 9999, 10000, 15000, 20001)


def line(sku: str, category: str, unit_cents: int, quantity: int) -> dict[str, Any]:
    return {"sku": sku, "category": category, "unit_cents": unit_cents, "quantity": quantity}


def order(lines: list[dict[str, Any]], tier: str = "regular", zone: str = "home", coupon: str = "") -> Order:
    return {"lines": lines, "tier": tier, "zone": zone, "coupon": coupon}


def random_line(rng: random.Random, number: int, categories: tuple[str, ...]) -> dict[str, Any]:
    unit = rng.choice(PRICES) if rng.random() < 0.5 else rng.randint(1, 25000)
    quantity = rng.choice(QUANTITIES) if rng.random() < 0.7 else rng.randint(1, 200)
    return line(f"{rng.choice('ABCDEFGHJK')}-{number:03d}", rng.choice(categories), unit, quantity)


def random_order(rng: random.Random, categories: tuple[str, ...] = CATEGORIES) -> Order:
    lines = [random_line(rng, number, categories) for number in range(rng.choice((0, 1, 1, 2, 2, 3, 4, 6)))]
    made = order(lines, rng.choice(TIERS), rng.choice(ZONES), rng.choice(COUPONS))
    for key in ("tier", "zone", "coupon"):  # the keys are optional: their defaults are part of the behaviour
        if rng.random() < 0.05:
            del made[key]
    return made


def random_orders(rng: random.Random, count: int, categories: tuple[str, ...] = CATEGORIES) -> list[Order]:
    return [random_order(rng, categories) for _ in range(count)]


def merchandise_of(cents: int, **order_fields: str) -> Order:
    """An order whose merchandise is exactly ``cents``: one book, which no line rule touches."""
    return order([line("BOOK-1", "books", cents, 1)], **order_fields)


def around(value: int) -> tuple[int, int, int]:
    return value - 1, value, value + 1


def boundary_orders() -> list[Order]:
    """Both sides of every threshold the README names, each with the rules around it."""
    found = [order([]), {"lines": []}, order([line("GC-1", "gift-card", 5000, 3)], zone="world")]
    found += [order([line("SOCK-7", "socks", 350, q)]) for q in (1, 2, 3, 4, 5, 6, 7, 11, 12)]
    found += [order([line("DRILL-2", "tools", 700, q)]) for q in (*around(10), *around(50), 100)]
    found += [order([line("PIN-1", "toys", 1, q)]) for q in (9, 10, 19, 20, 21, 50, 51)]  # 5 % of under 1 cent
    found += [merchandise_of(c, tier="gold") for c in around(10000)]
    found += [merchandise_of(c, tier="silver") for c in (*around(10000), *around(20000))]
    found += [merchandise_of(c, tier=t) for c in (20000, 25000) for t in ("regular", "Gold", "platinum")]
    found += [merchandise_of(c, coupon=code) for c in around(5000) for code in ("SAVE10", " save10", "SAVE 10")]
    found += [order([line("GC-2", "gift-card", 4000, 1), line("BOOK-2", "books", c, 1)], coupon="SAVE10")
              for c in (999, 1000, 1001)]  # fmt: skip
    found += [merchandise_of(c, tier=t, coupon="TENPERCENT") for c in (9, 10, 11, 3000) for t in TIERS[:3]]
    found += [merchandise_of(c) for c in (1, *around(1500), 1301)]
    found += [merchandise_of(c, zone=z) for z in ("home", "eu") for c in (*around(5000), *around(15000))]
    found += [merchandise_of(c, zone=z, coupon="FREESHIP") for c in (100, 4000) for z in ZONES]
    found += [order([line("SOCK-1", "socks", 100, q)], zone=z) for q in (9, 10, 11, 12, 13) for z in ZONES[2:]]
    found += [order([line("GC-3", "gift-card", 100, 2), line("PEN-1", "books", 150, q)], zone="world")
              for q in (9, 10, 11)]  # fmt: skip
    found += [merchandise_of(c, tier="gold", zone="home", coupon="SAVE10") for c in (5555, 6000, 11000, 11111)]
    return found


def name_variants() -> list[Order]:
    """Names the rules do not know, or know in another case: compared exactly, never folded or guessed."""
    found = [order([line(f"{category.upper()}-1", category, 400, q)], zone=zone)
             for category in ("Socks", "SOCKS", "Gift-Card", "garden", "food")
             for q in (3, 12, 60) for zone in ("home", "world")]  # fmt: skip
    found += [merchandise_of(c, tier=t) for c in (12000, 25000) for t in ("GOLD", "Silver", " gold", "")]
    found += [merchandise_of(c, zone=z) for c in (1200, 6000, 16000) for z in ("Home", "EU", " eu", "")]
    found += [merchandise_of(c, zone=z, coupon=code) for c in (900, 6000) for z in ("home", "eu")
              for code in ("\tsave10\n", "\nFreeShip\t", " TenPercent\r\n", "SAVE10.", "FREE SHIP")]  # fmt: skip
    found += [order([line("GC-4", "Gift-Card", 3000, 1), line("SOCK-4", "socks", 300, 6)], coupon="SAVE10", zone=z)
              for z in ("home", "world")]  # fmt: skip
    return found
