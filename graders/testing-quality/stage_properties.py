"""Stage 5: a hypothesis property test (README rule S12) and what it catches on its own."""

from labkit.checks import fail
from spec_rules import RULES
from suite_run import Round, variants
from verdicts import expect_green


def check_has_a_property_test(suite):
    """Has a hypothesis @given test that asserts and passes on the correct module"""
    spec = Round("properties", only="hypothesis")
    run = suite([spec])
    result = run.rounds[spec.id]
    if result.collected == 0:
        fail(
            "your suite has no hypothesis property test",
            expected="at least one test decorated with @given (hypothesis), for rule S12",
            got="no test decorated with @given",
            hint="@given(st.lists(st.tuples(st.integers(0, 1439), st.integers(1, 240)))) and book what fits",
        )
    expect_green(run, result, "the property tests alone", hint="see the failure above")


def check_properties_catch_their_bugs(suite):
    """The property tests alone fail on the hidden implementations S12 exposes"""
    hidden = [variant for variant in variants() if variant.property]
    rounds = [Round(f"property-{variant.id}", unit=variant.id, only="hypothesis") for variant in hidden]
    run = suite(rounds)
    survivors = [variant for variant in hidden if not run.rounds[f"property-{variant.id}"].failed]
    if survivors:
        fail(
            f"{len(survivors)} of {len(hidden)} hidden implementations passed your property tests; they break"
            f" {', '.join(sorted({variant.rule for variant in survivors}))}",
            expected="the property tests of rule S12 alone fail on each",
            got="rules they break:\n" + "\n".join(sorted({RULES[variant.rule] for variant in survivors})),
            hint="generate bookings of any length (up to several hours) and windows that start or end inside one,"
            " and assert every S12 invariant: the minutes add up, each free slot lies inside the window and"
            " overlaps no booking",
        )
