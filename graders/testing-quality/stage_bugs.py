"""Stage 4: the suite fails on every hidden implementation that breaks one rule of the README."""

from labkit.checks import fail
from spec_rules import RULES
from suite_run import Round, variants
from verdicts import expect_green


def check_catches_every_hidden_bug(suite):
    """Fails on each hidden implementation with one rule broken"""
    hidden = variants()
    rounds = [
        Round("correct", last_if_failed=True),
        *(Round(variant.id, unit=variant.id, stop_first=True) for variant in hidden),
    ]
    run = suite(rounds)
    expect_green(run, run.rounds["correct"], "on the correct module", hint="see the failure above")
    survivors = [variant for variant in hidden if not run.rounds[variant.id].failed]
    if survivors:
        broken = sorted({variant.rule for variant in survivors}, key=lambda rule: int(rule[1:]))
        fail(
            f"{len(survivors)} of {len(hidden)} hidden implementations passed your whole suite; they break"
            f" {', '.join(broken)}",
            expected="every hidden implementation fails at least one test",
            got="rules they break, untested by your suite:\n" + "\n".join(RULES[rule] for rule in broken),
            hint="test both sides of each boundary of those rules, the exact error class, and the state after",
        )
