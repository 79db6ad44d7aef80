"""The shop's use cases (README, "The use cases"). Each receives its unit of work from the caller and reaches
storage only through it: never import shop.adapters here."""

from __future__ import annotations

from typing import Any

from shop.service_layer.unit_of_work import UnitOfWork


def add_product(uow: UnitOfWork, sku: Any, name: Any, price_cents: Any, stock: Any) -> dict[str, Any]:
    # TODO: validate every argument (InvalidInput), refuse a sku that exists (DuplicateProduct), add, commit once.
    raise NotImplementedError("add_product")


def get_product(uow: UnitOfWork, sku: Any) -> dict[str, Any]:
    # TODO: the product as a dict, or UnknownProduct.
    raise NotImplementedError("get_product")


def restock(uow: UnitOfWork, sku: Any, quantity: Any) -> dict[str, Any]:
    # TODO: validate, find the product, increase its stock, save it, commit once.
    raise NotImplementedError("restock")


def place_order(uow: UnitOfWork, lines: Any) -> dict[str, Any]:
    # TODO: validate every line, look every product up, reserve every quantity, store the order: all or nothing.
    raise NotImplementedError("place_order")


def get_order(uow: UnitOfWork, order_id: Any) -> dict[str, Any]:
    # TODO: the order as a dict (with total_cents), or UnknownOrder.
    raise NotImplementedError("get_order")


def cancel_order(uow: UnitOfWork, order_id: Any) -> dict[str, Any]:
    # TODO: UnknownOrder, AlreadyCancelled, or give each line's quantity back to its product and commit once.
    raise NotImplementedError("cancel_order")
