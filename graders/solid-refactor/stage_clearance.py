"""Stage 6: the new requirement, clearance, added as one more rule module."""

import orders
import plugins
import pricing_model as model
from copies import rule_modules
from labkit.checks import fail
from quotes import expect_same_quotes

SEEDED = 400
WITH_CLEARANCE = (*orders.CATEGORIES, "clearance", "clearance")
HINT = "clearance: 30 % of the line total, rounded down, priority 130 (after bulk, before membership)"


def line(sku, unit_cents, quantity):
    return orders.line(sku, "clearance", unit_cents, quantity)


# The README's examples, exactly as it shows them.
EXAMPLES = [
    ({"lines": [line("LAMP-4", 1999, 2)]},
     {"subtotal": 3998, "adjustments": [["clearance: LAMP-4", -1199], ["shipping", 495]], "total": 3294}),
    ({"lines": [line("MUG-9", 400, 12)], "zone": "eu"},
     {"subtotal": 4800, "adjustments": [["bulk: MUG-9", -240], ["clearance: MUG-9", -1440], ["shipping", 1295]],
      "total": 4415}),
    ({"lines": [line("PIN-2", 3, 1)], "tier": "gold"},
     {"subtotal": 3, "adjustments": [["small order fee", 199], ["shipping", 495]], "total": 697}),
    ({"lines": [line("LAMP-4", 20000, 1)], "tier": "gold"},
     {"subtotal": 20000, "adjustments": [["clearance: LAMP-4", -6000], ["gold member", -1400]], "total": 12600}),
]  # fmt: skip


def clearance_orders(rng):
    return orders.random_orders(rng, SEEDED, WITH_CLEARANCE)


def other_cases():
    """Lines whose category is clearance in another case: not clearance (names are compared exactly)."""
    return [orders.order([orders.line(f"LAMP-{n}", category, 2000, 12), line(f"PIN-{n}", 3000, 1)])
            for n, category in enumerate(("Clearance", "CLEARANCE", "clearance ", " clearance"))]  # fmt: skip


def check_the_readme_examples(pricer, impl_dir):
    """The README's clearance examples quote exactly as shown"""
    if "clearance" not in rule_modules(impl_dir):
        fail("there is no rules/clearance.py", hint="the new requirement is one new rule module: " + HINT)
    batch = [order for order, _ in EXAMPLES]
    expect_same_quotes(batch, pricer.learner(batch), [quote for _, quote in EXAMPLES],
                       source="the README's example", where="your folder", hint=HINT)  # fmt: skip


def check_clearance_alone(pricer, rng):
    """rules/clearance.py alone quotes what the clearance rule gives, and nothing for a category in another case"""
    batch = clearance_orders(rng)
    expected = [model.quote(order, (model.CLEARANCE,)) for order in batch]
    expect_same_quotes(batch, pricer.learner(batch, keep=("clearance",)), expected, source="the clearance rule alone",
                       where="a copy whose rules/ holds only clearance.py", hint=HINT)  # fmt: skip
    batch = other_cases()
    expected = [model.quote(order, (model.CLEARANCE,)) for order in batch]
    expect_same_quotes(batch, pricer.learner(batch, keep=("clearance",)), expected, source="the clearance rule alone",
                       where="a copy whose rules/ holds only clearance.py", rule_hints=False,
                       hint='categories are compared exactly: "Clearance" is not clearance')  # fmt: skip


def check_clearance_among_the_other_rules(pricer, rng):
    """Seeded orders with clearance lines among others quote as the README's rules say"""
    batch = clearance_orders(rng)
    expected = [model.quote(order, model.ALL_RULES) for order in batch]
    expect_same_quotes(batch, pricer.learner(batch), expected, source="the README's rules with clearance",
                       where="your folder", hint=HINT)  # fmt: skip


def check_clearance_runs_at_exactly_priority_130(pricer, rng):
    """Rule modules the grader adds at priority 130, named to sort before and after clearance.py, run around it"""
    added = plugins.around_priority(model.CLEARANCE.priority)
    batch = clearance_orders(rng)
    expected = [model.quote(order, (*model.ALL_RULES, *(plugin.rule for plugin in added))) for order in batch]
    names = ", ".join(f"{plugin.module}.py" for plugin in added)
    expect_same_quotes(batch, pricer.learner(batch, add={plugin.module: plugin.source for plugin in added}), expected,
                       source=f"the README's rules with the grader's {names} (priority 130)",
                       where=f"a copy with the grader's {names} added to rules/", hint=HINT)  # fmt: skip
