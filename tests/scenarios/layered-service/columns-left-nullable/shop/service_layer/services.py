"""The shop's use cases. Each gets its unit of work from the caller, so it runs on PostgreSQL or on a fake."""

from __future__ import annotations

import uuid
from typing import Any

from shop.domain.errors import DuplicateProduct, UnknownOrder, UnknownProduct
from shop.domain.model import Order, OrderLine, Product
from shop.service_layer import validation as valid
from shop.service_layer.unit_of_work import UnitOfWork


def add_product(uow: UnitOfWork, sku: Any, name: Any, price_cents: Any, stock: Any) -> dict[str, Any]:
    product = Product(
        sku=valid.sku(sku),
        name=valid.name(name),
        price_cents=valid.integer(price_cents, "price_cents", 1, valid.MAX_PRICE_CENTS),
        stock=valid.integer(stock, "stock", 0, valid.MAX_STOCK),
    )
    with uow:
        if uow.products.get(product.sku) is not None:
            raise DuplicateProduct(f"product {product.sku} exists")
        uow.products.add(product)
        uow.commit()
    return product_view(product)


def get_product(uow: UnitOfWork, sku: Any) -> dict[str, Any]:
    valid.sku(sku)
    with uow:
        return product_view(_product(uow, sku))


def restock(uow: UnitOfWork, sku: Any, quantity: Any) -> dict[str, Any]:
    valid.sku(sku)
    valid.integer(quantity, "quantity", 1, valid.MAX_RESTOCK)
    with uow:
        product = _product(uow, sku)
        product.release(quantity)
        uow.products.save(product)
        uow.commit()
    return product_view(product)


def place_order(uow: UnitOfWork, lines: Any) -> dict[str, Any]:
    wanted = valid.order_lines(lines)
    with uow:
        products = [_product(uow, sku) for sku, _ in wanted]  # every sku known before any stock moves
        order = Order(order_id=uuid.uuid4().hex)
        for product, (_, quantity) in zip(products, wanted, strict=True):
            product.reserve(quantity)
            order.lines.append(OrderLine(product.sku, quantity, product.price_cents))
        for product in products:
            uow.products.save(product)
        uow.orders.add(order)
        uow.commit()
    return order_view(order)


def get_order(uow: UnitOfWork, order_id: Any) -> dict[str, Any]:
    valid.order_id(order_id)
    with uow:
        return order_view(_order(uow, order_id))


def cancel_order(uow: UnitOfWork, order_id: Any) -> dict[str, Any]:
    valid.order_id(order_id)
    with uow:
        order = _order(uow, order_id)
        order.cancel()
        for line in order.lines:
            product = _product(uow, line.sku)
            product.release(line.quantity)
            uow.products.save(product)
        uow.orders.save(order)
        uow.commit()
    return order_view(order)


def _product(uow: UnitOfWork, sku: str) -> Product:
    product = uow.products.get(sku)
    if product is None:
        raise UnknownProduct(f"no product {sku}")
    return product


def _order(uow: UnitOfWork, order_id: str) -> Order:
    order = uow.orders.get(order_id)
    if order is None:
        raise UnknownOrder(f"no order {order_id}")
    return order


def product_view(product: Product) -> dict[str, Any]:
    return {"sku": product.sku, "name": product.name, "price_cents": product.price_cents, "stock": product.stock}


def order_view(order: Order) -> dict[str, Any]:
    lines = [
        {"sku": line.sku, "quantity": line.quantity, "unit_price_cents": line.unit_price_cents} for line in order.lines
    ]
    return {"order_id": order.order_id, "status": order.status, "lines": lines, "total_cents": order.total_cents}
