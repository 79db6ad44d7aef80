"""Stage 1: every rule in its own module behind one protocol, found by discovery, each one runnable alone."""

import orders
import plugins
import pricing_model as model
from copies import rule_modules
from labkit.checks import fail
from quotes import expect_same_quotes, show

LEGACY_MODULES = [rule.module for rule in model.LEGACY_RULES]
LATER_MODULES = [model.CLEARANCE.module]  # stage 6's: allowed from the start
SEEDED = 150
WITH_CLEARANCE = (*orders.CATEGORIES, "clearance")  # no legacy rule module may make clearance's adjustments
# The labels each rule module makes (their start), as the README's table gives them.
LABELS = {
    "multibuy": ("3 for 2: ",),
    "bulk": ("bulk: ",),
    "tier": ("gold member", "silver member"),
    "coupons": ("coupon SAVE10", "coupon TENPERCENT"),
    "small_order": ("small order fee",),
    "shipping": ("shipping",),
}


def check_the_rules_package_holds_one_module_per_rule(impl_dir):
    """rules/ is a package holding the six rule modules of the README"""
    if not (impl_dir / "rules" / "__init__.py").is_file():
        fail(
            "there is no rules/ package (rules/__init__.py) next to pricing.py",
            hint="this is the first step of the refactoring: create rules/ with the protocol and the discovery, "
            "then move one rule at a time out of price(), keeping the golden master green",
        )
    found = rule_modules(impl_dir)
    missing = [name for name in LEGACY_MODULES if name not in found]
    unexpected = [name for name in found if name not in LEGACY_MODULES + LATER_MODULES]
    if missing or unexpected:
        fail(
            "rules/ does not hold one module per rule of the README",
            expected=", ".join(f"{name}.py" for name in LEGACY_MODULES),
            got=", ".join(f"{name}.py" for name in found) or "no rule module",
            hint=f"missing: {', '.join(missing) or 'none'}; not a rule of the README: {', '.join(unexpected) or 'none'}"
            " (a helper module's name starts with _)",
        )


def check_with_no_rule_module_a_quote_is_its_subtotal(pricer, rng):
    """With no rule module, quotes have no adjustment: no rule is left in pricing.py, and a _helper is no rule"""
    batch = orders.boundary_orders() + orders.random_orders(rng, SEEDED)
    got = pricer.learner(batch, keep=())
    expected = [model.quote(order, ()) for order in batch]
    expect_same_quotes(
        batch,
        got,
        expected,
        source="the subtotal alone",
        where="a copy with no rule module",
        hint="pricing.py applies the rules it discovers and nothing else; with none, a quote is its subtotal",
        rule_hints=False,
    )
    helper = plugins.HELPER_WITH_RULE
    expect_same_quotes(
        batch,
        pricer.learner(batch, keep=(), add={helper.module: helper.source}),
        expected,
        source="the subtotal alone",
        where=f"a copy with no rule module and the grader's {helper.module}.py, which defines RULE",
        hint='a module whose name starts with "_" is a helper, never a rule module, even when it defines RULE',
        rule_hints=False,
    )


def check_each_rule_alone_makes_only_its_own_adjustments(pricer, rng):
    """Each rule module, alone in rules/, makes its own adjustments and no other rule's"""
    batch = orders.boundary_orders() + orders.random_orders(rng, SEEDED, WITH_CLEARANCE)
    for rule in model.LEGACY_RULES:
        got = pricer.learner(batch, keep=(rule.module,))
        expect_only_labels(batch, got, rule)


def labels_of(quote, where):
    adjustments = quote.get("adjustments") if isinstance(quote, dict) else None
    if not isinstance(adjustments, list) or not all(isinstance(item, list) and item for item in adjustments):
        fail(f"quote_many() on {where} returned a quote without a list of [label, cents]", got=show(quote))
    return [str(item[0]) for item in adjustments]


def expect_only_labels(batch, got, rule):
    where = f"a copy whose rules/ holds only {rule.module}.py"
    if not isinstance(got, list) or len(got) != len(batch):
        fail(f"quote_many() on {where} did not return one quote per order")
    owned = LABELS[rule.module]
    made = 0
    for order, quote in zip(batch, got, strict=True):
        labels = labels_of(quote, where)
        foreign = [label for label in labels if not label.startswith(owned)]
        if foreign:
            fail(
                f"on {where}, an order got the adjustment {foreign[0]!r}, which is not this rule's\n"
                f"  the order: {show(order)}",
                expected=f"only adjustments labelled {' or '.join(repr(label) for label in owned)}…",
                got=show(quote),
                hint="each rule lives in its own module: move that logic to its rule's module",
            )
        made += bool(labels)
    should = sum(bool(model.quote(order, (rule,))["adjustments"]) for order in batch)
    if made == 0 and should:
        fail(
            f"on {where}, no order got any adjustment, where the README's rule gives {should} of these "
            f"{len(batch)} orders one",
            hint=f"{rule.module}.py must define RULE with its priority and apply()",
        )
