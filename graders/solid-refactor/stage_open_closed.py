"""Stage 5: open for extension, closed for modification. The grader adds rule modules of its own to a copy of the
learner's rules/ and nothing else; the learner's code must pick them up and run them in priority order."""

import orders
import plugins
import pricing_model as model
from copies import rule_modules
from quotes import expect_same_quotes

SEEDED = 300
HINT = "discover the rule modules in rules/ when the process runs and sort them by (priority, module name)"


def expect_plugins_work(pricer, impl_dir, rng, added):
    batch = orders.boundary_orders() + orders.random_orders(rng, SEEDED)
    theirs = [rule for rule in model.ALL_RULES if rule.module in rule_modules(impl_dir)]
    rules = theirs + [plugin.rule for plugin in added]
    got = pricer.learner(batch, add={plugin.module: plugin.source for plugin in added})
    names = ", ".join(f"{plugin.module}.py (priority {plugin.rule.priority})" for plugin in added)
    if len(added) > len(plugins.WIDE_PRIORITIES):
        names = f"{len(added)} rule modules, aa_at_<priority>.py and zz_at_<priority>.py at each priority of the table"
    expected = [model.quote(order, rules) for order in batch]
    expect_same_quotes(batch, got, expected, source=f"the README's rules with the grader's {names}",
                       where=f"a copy with the grader's {names} added to rules/", hint=HINT)  # fmt: skip


def check_a_rule_added_last_sees_the_whole_quote(pricer, impl_dir, rng):
    """A rule module the grader adds with priority 900 runs last and sees every adjustment; priorities are numbers"""
    expect_plugins_work(pricer, impl_dir, rng, [plugins.ROUNDING_LAST])
    expect_plugins_work(pricer, impl_dir, rng, list(plugins.WIDE_PRIORITIES))


def check_a_rule_added_in_the_middle_moves_the_rules_after_it(pricer, impl_dir, rng):
    """A rule module the grader adds with priority 250 runs between membership and coupons"""
    expect_plugins_work(pricer, impl_dir, rng, [plugins.LOYALTY_MIDDLE])


def check_equal_priorities_run_in_module_name_order(pricer, impl_dir, rng):
    """Rule modules with the same priority run in the order of their module names, the README's rules included"""
    expect_plugins_work(pricer, impl_dir, rng, list(plugins.TIED))
    present = [rule.priority for rule in model.ALL_RULES if rule.module in rule_modules(impl_dir)]
    expect_plugins_work(pricer, impl_dir, rng, [plugin for p in present for plugin in plugins.around_priority(p)])
