"""The shop: `from shop import main` starts it."""

from shop.entrypoints.http import main

__all__ = ["main"]
