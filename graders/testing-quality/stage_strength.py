"""Stage 6: a mutation score, the share of scheduler.py's mutants (cosmic-ray's operators) the suite kills."""

from labkit.checks import fail, log
from strength import THRESHOLD_PERCENT, needed, score, write_mutants
from suite_run import CORRECT, UNIT_FILE, Round, prepare
from verdicts import expect_green


def check_kills_enough_mutants(suite, run_info):
    """Kills at least 90 % of the mutants of scheduler.py"""
    folder = prepare(run_info)
    graded = write_mutants(folder, UNIT_FILE, (folder / CORRECT / UNIT_FILE).read_text())
    rounds = [
        Round("strength-correct", last_if_failed=True),
        *(Round(each.unit, unit=each.unit, stop_first=True, limited=True, brief=True) for each in graded),
    ]
    run = suite(rounds)
    expect_green(run, run.rounds["strength-correct"], "before the mutants", hint="see the failure above")
    result = score(
        graded,
        survived={each.unit: run.rounds[each.unit].exit == 0 for each in graded},
        timed_out={each.unit: run.rounds[each.unit].timed_out for each in graded},
    )
    log(f"mutation score: {result.killed} of {result.total} mutants killed ({result.percent} %),"
        f" {result.timed_out} of them by the time limit")  # fmt: skip
    for line in result.survivor_lines(UNIT_FILE):
        log(f"survived: {line}")
    if not result.passes:
        fail(
            f"your suite killed {result.killed} of {result.total} mutants of {UNIT_FILE} ({result.percent} %);"
            f" this stage asks for {THRESHOLD_PERCENT} %",
            expected=f"at least {needed(result.total)} of the {result.total} mutants fail a test of your suite",
            got=f"{len(result.survivors)} mutants passed your whole suite:\n"
            + "\n".join(result.survivor_lines(UNIT_FILE)),
            hint="each is the module with that one change: write the test that fails on it, on both sides of the"
            " boundary it moves",
        )
