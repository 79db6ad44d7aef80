"""Value rules of the shop, as small checker functions the domain objects share."""

import re

from shop.domain.errors import InvalidInput

_SKU = re.compile(r"\A[A-Z0-9-]{1,32}\Z")


def bounded_int(value, low, high, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < low or value > high:
        raise InvalidInput(f"{what}: expected an integer in [{low}, {high}]")
    return value


def sku(value):
    if not isinstance(value, str) or _SKU.match(value) is None:
        raise InvalidInput("sku: 1-32 of A-Z 0-9 -")
    return value


def name(value):
    if not isinstance(value, str) or len(value) > 100 or value.strip() == "":
        raise InvalidInput("name: 1-100 characters, not blank")
    return value
