"""Stage 1: the suite passes on the correct module three times, in three random orders."""

from suite_run import Round
from verdicts import expect_green

ROUNDS = [Round(f"green-{n}", order="random", last_if_failed=True) for n in (1, 2, 3)]


def check_passes_on_the_correct_module_in_random_orders(suite):
    """Passes on the correct scheduler three times, each in a random order"""
    run = suite(ROUNDS)
    for number, spec in enumerate(ROUNDS, start=1):
        expect_green(
            run,
            run.rounds[spec.id],
            f"run {number} of 3, tests in a random order",
            hint="a test that fails only here is over-specified (dict order, float ==), depends on other tests"
            " or on unseeded randomness",
        )
