"""Stage 3: each test passes alone and in reverse order: no test relies on what another left behind."""

from suite_run import Round
from verdicts import expect_green

HINT = "give each test its own Scheduler (a fixture) and seed any randomness it uses"


def check_passes_in_reverse_order(suite):
    """Passes with its tests in reverse order"""
    spec = Round("reverse", order="reverse")
    run = suite([spec])
    expect_green(run, run.rounds[spec.id], "tests in reverse order", hint=HINT)


def check_each_test_passes_alone(suite):
    """Each test passes when it runs alone"""
    spec = Round("alone", alone=True)
    run = suite([spec])
    expect_green(run, run.rounds[spec.id], "each test alone, in a fresh process", hint=HINT)
