"""Use cases as functions over a unit of work; each one is a small transaction script over the aggregate."""

import secrets

from shop.domain import rules
from shop.domain.errors import DuplicateProduct, InvalidInput, UnknownOrder, UnknownProduct
from shop.domain.model import Order, Product


def _found(item, error, key):
    if item is None:
        raise error(f"{key}: not found")
    return item


def add_product(uow, sku, name, price_cents, stock):
    product = Product.new(sku, name, price_cents, stock)
    with uow:
        if uow.products.get(product.sku):
            raise DuplicateProduct(product.sku)
        uow.products.add(product)
        uow.commit()
        return vars(product).copy()


def get_product(uow, sku):
    with uow:
        return vars(_found(uow.products.get(rules.sku(sku)), UnknownProduct, sku)).copy()


def restock(uow, sku, quantity):
    rules.sku(sku)
    rules.bounded_int(quantity, 1, 1_000_000, "quantity")
    with uow:
        product = _found(uow.products.get(sku), UnknownProduct, sku)
        product.stock += quantity
        uow.products.save(product)
        uow.commit()
        return vars(product).copy()


def place_order(uow, lines):
    pairs = Order.requested(lines)
    with uow:
        products = [_found(uow.products.get(sku), UnknownProduct, sku) for sku, _ in pairs]
        order = Order.place(secrets.token_urlsafe(12), products, pairs)
        uow.orders.add(order)
        for product in products:
            uow.products.save(product)
        uow.commit()
        return order.as_dict()


def _order_id(order_id):
    if not isinstance(order_id, str):
        raise InvalidInput("order id: a string")
    return order_id


def get_order(uow, order_id):
    with uow:
        return _found(uow.orders.get(_order_id(order_id)), UnknownOrder, order_id).as_dict()


def cancel_order(uow, order_id):
    with uow:
        order = _found(uow.orders.get(_order_id(order_id)), UnknownOrder, order_id)
        products = [_found(uow.products.get(line.sku), UnknownProduct, line.sku) for line in order.lines]
        order.cancel(products)
        for product in products:
            uow.products.save(product)
        uow.orders.save(order)
        uow.commit()
        return order.as_dict()
