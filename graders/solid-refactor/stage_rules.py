"""Stage 1: every rule in its own module behind one protocol, found by discovery, each one runnable alone."""

import orders
import pricing_model as model
from copies import rule_modules
from labkit.checks import fail
from quotes import expect_same_quotes

LEGACY_MODULES = [rule.module for rule in model.LEGACY_RULES]
LATER_MODULES = [model.CLEARANCE.module]  # stage 6's: allowed from the start
SEEDED = 300
PROTOCOL_HINT = (
    "price() applies the rule modules found in rules/, sorted by (priority, module name): see 'The rule protocol'"
)


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
    """With every rule module removed, quotes have no adjustment: no rule is left in pricing.py or named anywhere"""
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


def check_each_rule_alone(pricer, rng):
    """Each rule module, alone in rules/, quotes exactly what that rule of the README gives"""
    batch = orders.boundary_orders() + orders.random_orders(rng, SEEDED)
    for rule in model.LEGACY_RULES:
        got = pricer.learner(batch, keep=(rule.module,))
        expected = [model.quote(order, (rule,)) for order in batch]
        expect_same_quotes(
            batch,
            got,
            expected,
            source=f"the README's {rule.module} rule alone",
            where=f"a copy whose rules/ holds only {rule.module}.py",
            hint=PROTOCOL_HINT,
        )
