"""How a round's records become a verdict a learner can act on."""

from __future__ import annotations

from labkit.checks import fail
from suite_run import RoundResult, SuiteRun, TestRecord, expect_ran

SHOWN = 3  # tests named in one verdict
TIMED_OUT = "still running after"


def count(number: int, noun: str) -> str:
    """``1 test``, ``2 tests``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _names(tests: list[TestRecord]) -> str:
    shown = ", ".join(test.nodeid for test in tests[:SHOWN])
    return shown + (f" and {len(tests) - SHOWN} more" if len(tests) > SHOWN else "")


def expect_green(run: SuiteRun, result: RoundResult, what: str, hint: str) -> None:
    """Every test of the round passed on the correct module."""
    expect_ran(run, result, what)
    failed = result.failed
    if not failed:
        return
    first = failed[0]
    if TIMED_OUT in first.message:
        hint = f"{first.nodeid} never finished: a test must not wait for something that cannot happen"
    elif first.network:
        hint = f"{first.nodeid} tried to reach {first.network[0]}: tests may use loopback (127.0.0.1) only"
    fail(
        f"{len(failed)} of {count(len(result.tests), 'test')} failed on the correct scheduler ({what}):"
        f" {_names(failed)}",
        expected="every test passes on the module as the README specifies it",
        got=f"{first.nodeid}:\n{first.message.strip()[-900:]}",
        hint=hint,
    )
