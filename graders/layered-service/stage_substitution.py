"""Stage 3: the use cases run on the grader's in-memory unit of work, in a process with no database."""

import re

import shopdata
from fakes import CHANGING, LAST_ORDER, Step, expect_raised, expect_returned, run_on_fakes
from labkit.checks import expect_equal, fail

ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def order_view(order_id, lines, prices, status):
    priced = [{**line, "unit_price_cents": prices[line["sku"]]} for line in lines]
    total = sum(line["quantity"] * line["unit_price_cents"] for line in priced)
    return {"order_id": order_id, "status": status, "lines": priced, "total_cents": total}


def a_day_of_business(rng):
    """Three products in store, then one of each use case; returns the preset, the steps and the expectations."""
    products = shopdata.catalog(rng, stock=(20, 200)).products[:4]
    preset, new = products[:3], products[3]
    prices = {product["sku"]: product["price_cents"] for product in products}
    first, _, third = preset
    extra = rng.randint(11, 99)
    lines = [{"sku": third["sku"], "quantity": rng.randint(10, 19)}, {"sku": first["sku"], "quantity": 7}]
    steps = [
        (Step("add_product", [new["sku"], new["name"], new["price_cents"], new["stock"]]), new),
        (Step("get_product", [new["sku"]]), new),
        (Step("restock", [first["sku"], extra]), {**first, "stock": first["stock"] + extra}),
        (Step("place_order", [lines]), ("placed", lines)),
        (Step("get_order", [LAST_ORDER]), ("placed", lines)),
        (Step("get_product", [third["sku"]]), {**third, "stock": third["stock"] - lines[0]["quantity"]}),
        (Step("cancel_order", [LAST_ORDER]), ("cancelled", lines)),
        (Step("get_product", [first["sku"]]), {**first, "stock": first["stock"] + extra}),
    ]
    return preset, new, prices, steps


def check_use_cases_return_the_readme_results(start_probe, rng):
    """Every use case returns what the README says, on the grader's unit of work"""
    preset, _, prices, steps = a_day_of_business(rng)
    run = run_on_fakes(start_probe, preset, [step for step, _ in steps])
    order_id = None
    for outcome, (_, expected) in zip(run.outcomes, steps, strict=True):
        if isinstance(expected, tuple):
            status, lines = expected
            if order_id is None:
                order_id = (outcome.value or {}).get("order_id") if not outcome.raised else None
                if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
                    fail(f"{outcome.step.shown()} returned no valid order_id", got=repr(outcome.value)[:300])
            expected = order_view(order_id, lines, prices, status)
        expect_returned(outcome, expected)


def check_one_commit_per_change_inside_with(start_probe, rng):
    """A changing use case commits exactly once, inside `with uow:`; a read changes nothing"""
    preset, _, _, steps = a_day_of_business(rng)
    run = run_on_fakes(start_probe, preset, [step for step, _ in steps])
    for outcome in run.outcomes:
        expect_returned(outcome, outcome.value)  # a raise here is reported with its trace
        shown = outcome.step.shown()
        if outcome.count("blocks") < 1:
            fail(f"{shown} never opened `with uow:`", hint="every use case opens its unit of work itself")
        if outcome.step.call in CHANGING:
            expect_equal(
                outcome.count("commits"),
                1,
                f"the number of commits of {shown}",
                hint="commit once, after every change of the use case, not per repository call",
            )
        else:
            expect_equal(
                outcome.count("writes"),
                0,
                f"add/save calls of the read {shown}",
                hint="a read use case only gets: it neither adds nor saves",
            )


def check_validation_lives_in_the_service_layer(start_probe, rng):
    """Every rule of the validation table is the service layer's: InvalidInput past each limit, success at it"""
    shop = shopdata.catalog(rng)
    cases = shopdata.cases(rng, shop) + shopdata.service_only_cases()
    steps = [Step(case.use_case, list(case.args.values())) for case in cases]
    run = run_on_fakes(start_probe, shop.products, steps)
    hint = (
        "the handler is not the only caller: validate in the service layer (or the domain), as the README's table says"
    )
    for case, outcome in zip(cases, run.outcomes, strict=True):
        if case.valid:
            expect_returned(outcome, outcome.value, hint=f"{case.label} is valid")
        else:
            expect_raised(outcome, "InvalidInput", hint=f"{case.label} is invalid; {hint}")


def check_domain_errors_are_raised(start_probe, rng):
    """Unknown, duplicate, out-of-stock and already-cancelled requests raise the README's exceptions"""
    preset = shopdata.catalog(rng, stock=(20, 200)).products[:2]
    known, other = preset
    unknown = shopdata.sku(rng, 10, prefix="NO")
    too_many = [{"sku": other["sku"], "quantity": 1}, {"sku": known["sku"], "quantity": known["stock"] + 1}]
    exact = [{"sku": known["sku"], "quantity": known["stock"]}]
    expectations = [
        (Step("get_product", [unknown]), "UnknownProduct"),
        (Step("restock", [unknown, 5]), "UnknownProduct"),
        (
            Step("place_order", [[{"sku": known["sku"], "quantity": 1}, {"sku": unknown, "quantity": 1}]]),
            "UnknownProduct",
        ),
        (Step("get_order", [unknown.lower()]), "UnknownOrder"),
        (Step("cancel_order", [unknown.lower()]), "UnknownOrder"),
        (Step("add_product", [known["sku"], "Another", 100, 1]), "DuplicateProduct"),
        (Step("place_order", [too_many]), "OutOfStock"),
        (Step("place_order", [[too_many[1], {"sku": unknown, "quantity": 1}]]), "UnknownProduct"),  # lookups first
        (Step("place_order", [exact]), None),
        (Step("cancel_order", [LAST_ORDER]), None),
        (Step("cancel_order", [LAST_ORDER]), "AlreadyCancelled"),
    ]
    run = run_on_fakes(start_probe, preset, [step for step, _ in expectations])
    for outcome, (_, raised) in zip(run.outcomes, expectations, strict=True):
        if raised is None:
            expect_returned(outcome, outcome.value)
        else:
            expect_raised(outcome, raised)
    stocks = {sku: product["stock"] for sku, product in run.state["products"].items()}
    expect_equal(stocks, {p["sku"]: p["stock"] for p in preset}, "the committed stocks after refusals and a cancel")


def check_a_failure_midway_is_never_committed(start_probe, rng):
    """When the grader's repository fails midway through a use case, nothing is committed"""
    preset = shopdata.catalog(rng, stock=(20, 200)).products[:3]
    lines = [{"sku": product["sku"], "quantity": rng.randint(2, 9)} for product in preset]
    unchanged = {
        "products": {p["sku"]: {k: p[k] for k in ("name", "price_cents", "stock")} for p in preset},
        "orders": {},
    }
    for failure in ({"at": "orders.add"}, {"at": "products.save", "nth": 2}):
        run = run_on_fakes(start_probe, preset, [Step("place_order", [lines])], failure)
        outcome = run.outcomes[0]
        where = f"{failure['at']}() failing" + (f" the {failure['nth']}nd time" if "nth" in failure else "")
        if outcome.raised is None:
            fail(
                f"place_order returned although {where}",
                got=str(outcome.value)[:300],
                hint="let an unexpected exception propagate: the unit of work discards the changes",
            )
        expect_equal(
            outcome.count("commits"),
            0,
            f"commits of place_order with {where}",
            hint="commit once, at the end: never per repository call",
        )
        expect_equal(run.state, unchanged, f"the committed data after place_order with {where}")


def check_no_adapter_or_driver_is_loaded(start_probe, rng):
    """The use cases run without loading shop.adapters, shop.entrypoints or a database driver"""
    preset, _, _, steps = a_day_of_business(rng)
    run = run_on_fakes(start_probe, preset, [step for step, _ in steps])
    if run.loaded:
        fail(
            "running your use cases loaded modules the service layer must not depend on",
            expected="none of shop.adapters, shop.entrypoints, psycopg, sqlite3, http.server",
            got=", ".join(run.loaded),
            hint="the unit of work is handed in: the service layer never builds one",
        )
