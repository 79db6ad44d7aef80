"""Stage 1: the API works end to end over HTTP on PostgreSQL, with the README's statuses and codes."""

import re
from typing import Any

import shopdata
from api import NO_BODY, Api
from labkit.checks import expect, expect_equal, fail
from tables import count_rows

ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
VALIDATION_HINT = (
    "the README's validation table: check type(value) is int (True is not a quantity), both ends of each range, "
    "and every line before anything is looked up"
)


def create(api: Api, products: list[dict[str, Any]]) -> None:
    for product in products:
        expect_equal(api.expect("POST", "/products", product, status=201), product, "the product POST answered")


def stock_of(api: Api, sku: str) -> int:
    stock: int = api.expect("GET", f"/products/{sku}", status=200).get("stock")
    return stock


def expect_order(answer: dict[str, Any], lines: list[dict[str, Any]], prices: dict[str, int], status: str) -> str:
    order_id = answer.get("order_id")
    if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
        fail("the order's order_id is not 1 to 64 characters of A-Z a-z 0-9 _ -", got=repr(order_id))
    priced = [{**line, "unit_price_cents": prices[line["sku"]]} for line in lines]
    total = sum(line["quantity"] * line["unit_price_cents"] for line in priced)
    expected = {"order_id": order_id, "status": status, "lines": priced, "total_cents": total}
    expect_equal(answer, expected, "the order", hint="lines in the client's order, each with the product's price")
    return order_id


def check_products_round_trip(api, rng):
    """Products are created, read back and restocked"""
    products = shopdata.catalog(rng).products[:3]
    create(api, products)
    for product in products:
        expect_equal(api.expect("GET", f"/products/{product['sku']}", status=200), product, "GET of a product")
    first = products[0]
    quantity = rng.randint(11, 99)
    restocked = api.expect("POST", f"/products/{first['sku']}/restock", {"quantity": quantity}, status=200)
    expect_equal(restocked, {**first, "stock": first["stock"] + quantity}, "the restocked product")
    expect_equal(stock_of(api, first["sku"]), first["stock"] + quantity, "the stock read back after a restock")


def check_orders_reserve_and_release_stock(api, rng):
    """An order takes its quantities from stock; cancelling it gives them back"""
    products = shopdata.catalog(rng).products[:3]
    create(api, products)
    prices = {product["sku"]: product["price_cents"] for product in products}
    lines = [
        {"sku": products[2]["sku"], "quantity": rng.randint(10, 40)},
        {"sku": products[0]["sku"], "quantity": rng.randint(10, 40)},
    ]
    order_id = expect_order(api.expect("POST", "/orders", {"lines": lines}, status=201), lines, prices, "placed")
    api.name(order_id, "{order_id}")
    expect_order(api.expect("GET", f"/orders/{order_id}", status=200), lines, prices, "placed")
    after = {line["sku"]: line["quantity"] for line in lines}
    for product in products:
        left = product["stock"] - after.get(product["sku"], 0)
        expect_equal(stock_of(api, product["sku"]), left, f"the stock of {product['sku']} after the order")
    expect_order(api.expect("POST", f"/orders/{order_id}/cancel", status=200), lines, prices, "cancelled")
    expect_order(api.expect("GET", f"/orders/{order_id}", status=200), lines, prices, "cancelled")
    for product in products:
        expect_equal(stock_of(api, product["sku"]), product["stock"], f"the stock of {product['sku']} after cancelling")


def check_domain_errors_have_their_statuses(api, rng):
    """Each domain error answers its README status and code, never 500"""
    products = shopdata.catalog(rng, stock=(20, 200)).products[:2]
    create(api, products)
    known, other = products[0], products[1]
    unknown = shopdata.sku(rng, 10, prefix="NO")
    api.expect_error("GET", f"/products/{unknown}", status=404, code="unknown_product")
    api.expect_error("POST", f"/products/{unknown}/restock", {"quantity": 3}, status=404, code="unknown_product")
    lines = [{"sku": known["sku"], "quantity": 1}, {"sku": unknown, "quantity": 1}]
    api.expect_error("POST", "/orders", {"lines": lines}, status=404, code="unknown_product")
    api.expect_error("GET", f"/orders/{unknown.lower()}", status=404, code="unknown_order")
    api.expect_error("POST", f"/orders/{unknown.lower()}/cancel", status=404, code="unknown_order")
    api.expect_error("POST", "/products", {**known, "name": "Another"}, status=409, code="duplicate_product")
    too_many = [{"sku": other["sku"], "quantity": 1}, {"sku": known["sku"], "quantity": known["stock"] + 1}]
    api.expect_error("POST", "/orders", {"lines": too_many}, status=409, code="out_of_stock")
    short_then_unknown = [{"sku": known["sku"], "quantity": known["stock"] + 1}, {"sku": unknown, "quantity": 1}]
    api.expect_error("POST", "/orders", {"lines": short_then_unknown}, status=404, code="unknown_product")
    exact = [{"sku": known["sku"], "quantity": min(known["stock"], 1000)}]
    order_id = api.expect("POST", "/orders", {"lines": exact}, status=201).get("order_id")
    api.name(str(order_id), "{order_id}")
    api.expect("POST", f"/orders/{order_id}/cancel", raw=b"not JSON: a cancel's body is ignored", status=200)
    api.expect_error("POST", f"/orders/{order_id}/cancel", status=409, code="already_cancelled")


def check_validation_on_both_sides_of_every_limit(api, rng):
    """Every rule of the validation table: 422 just past each limit, success at it"""
    shop = shopdata.catalog(rng)
    create(api, shop.products)
    for case in shopdata.cases(rng, shop):
        method, path, body = http_request(case)
        if case.valid:
            api.expect(method, path, body, status=201 if case.use_case != "restock" else 200)
            continue
        reply = api.send(method, path, body)
        if reply.status != 422 or not isinstance(reply.body, dict) or reply.body.get("error") != "invalid_input":
            fail(
                f"{case.use_case} with {case.label} was not refused as invalid input",
                expected='422 {"error": "invalid_input", ...}',
                got=f"{reply.status} {reply.raw[:200].decode(errors='replace')}",
                hint=VALIDATION_HINT,
            )


def http_request(case: shopdata.Case) -> tuple[str, str, Any]:
    if case.use_case == "get_product":
        return "GET", f"/products/{case.args['sku']}", NO_BODY
    if case.use_case == "add_product":
        return "POST", "/products", case.args
    if case.use_case == "restock":
        return "POST", f"/products/{case.args['sku']}/restock", {"quantity": case.args["quantity"]}
    return "POST", "/orders", case.args


def check_malformed_requests_are_refused(api, rng):
    """A body that is not a JSON object or lacks a field is 422; an unknown route is 404"""
    product = shopdata.catalog(rng).products[0]
    api.expect_error("POST", "/products", raw=b'{"sku": "AB', status=422, code="invalid_input")
    api.expect_error("POST", "/products", raw=b"[1, 2]", status=422, code="invalid_input")
    api.expect_error("POST", "/orders", raw=b"not json", status=422, code="invalid_input")
    for missing in ("sku", "name", "price_cents", "stock"):
        body = {key: value for key, value in product.items() if key != missing}
        api.expect_error("POST", "/products", body, status=422, code="invalid_input")
    api.expect_error("POST", "/orders", {}, status=422, code="invalid_input")
    api.expect_error("GET", "/warehouses", status=404, code="not_found")
    api.expect_error("DELETE", f"/products/{product['sku']}", status=404, code="not_found")
    api.expect_error("GET", "/orders", status=404, code="not_found")
    api.expect_error("PUT", f"/products/{product['sku']}", product, status=404, code="not_found")
    api.expect_error("GET", f"/products/{product['sku']}/restock", status=404, code="not_found")
    expect(api.send("GET", "/health").status == 200, "GET /health must answer 200 after refused requests")


def check_orders_are_all_or_nothing(api, rng, admin_db):
    """An order refused for one line changes no stock and stores no order"""
    products = shopdata.catalog(rng, stock=(20, 200)).products[:3]
    create(api, products)
    orders_before = count_rows(admin_db, "orders")
    first, short, last = products
    lines = [
        {"sku": first["sku"], "quantity": 5},
        {"sku": short["sku"], "quantity": short["stock"] + 1},
        {"sku": last["sku"], "quantity": 5},
    ]
    api.expect_error("POST", "/orders", {"lines": lines}, status=409, code="out_of_stock")
    unknown = [{"sku": first["sku"], "quantity": 5}, {"sku": shopdata.sku(rng, 9, prefix="NO"), "quantity": 1}]
    api.expect_error("POST", "/orders", {"lines": unknown}, status=404, code="unknown_product")
    for product in products:
        expect_equal(stock_of(api, product["sku"]), product["stock"], f"the stock of {product['sku']} after refusals")
    expect_equal(
        count_rows(admin_db, "orders") - orders_before,
        0,
        "rows added to table orders by two refused orders",
        hint="check every line first",
    )


def check_data_outlives_a_restart(start_learner, service_env, rng):
    """Products and orders are in PostgreSQL: a restarted server still has them"""
    first = start_learner(env=service_env)
    api = Api(first.port or 0)
    product = shopdata.catalog(rng).products[0]
    create(api, [product])
    lines = [{"sku": product["sku"], "quantity": 12}]
    order_id = api.expect("POST", "/orders", {"lines": lines}, status=201).get("order_id")
    first.stop()
    again = Api(start_learner(env=service_env).port or 0)
    again.name(str(order_id), "{order_id}")
    expect_equal(
        stock_of(again, product["sku"]),
        product["stock"] - 12,
        "the stock after a restart",
        hint="keep the data in PostgreSQL (DATABASE_URL), not in the process",
    )
    order = again.expect("GET", f"/orders/{order_id}", status=200)
    expect_equal(
        order.get("lines"),
        [{**lines[0], "unit_price_cents": product["price_cents"]}],
        "the order's lines after a restart",
    )
