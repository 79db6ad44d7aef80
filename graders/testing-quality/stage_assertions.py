"""Stage 2: every test asserts something, none is skipped or xfailed, none hides a failed assertion, errors are
expected by their exact class, and the unit under test is never mocked."""

from labkit.checks import fail
from suite_lint import broad_raises, swallowed_assertions
from suite_run import Round
from verdicts import count, expect_green

PLAIN = Round("plain")


def _ran(suite):
    run = suite([PLAIN])
    result = run.rounds[PLAIN.id]
    expect_green(run, result, "tests in file order", hint="see the failure above")
    return result


def check_every_test_asserts(suite):
    """Every test passes at least one assert statement, and none is skipped or xfailed"""
    result = _ran(suite)
    idle = [test.nodeid for test in result.tests.values() if test.asserts == 0 and test.outcome == "passed"]
    if idle:
        fail(
            f"{count(len(idle), 'test')} passed without passing a single assert statement: {', '.join(idle[:3])}",
            expected="at least one passing `assert` in every test (pytest.raises alone does not count)",
            got=f"0 assertions in {idle[0]}",
            hint="assert what the call returned or what state it left: `assert s.bookings('A') == [...]`",
        )
    skipped = [f"{test.nodeid} ({test.outcome})" for test in result.tests.values() if test.outcome != "passed"]
    if skipped:
        fail(
            f"{count(len(skipped), 'test')} did not run to a pass: {', '.join(skipped[:3])}",
            expected="no skip, skipif, xfail or importorskip: every test runs and passes",
            got=skipped[0],
            hint="delete a test you cannot make pass, or fix it",
        )


def check_no_assertion_is_swallowed(run_info):
    """No test catches AssertionError (or everything) around its assertions"""
    findings = swallowed_assertions(run_info.impl_dir)
    if findings:
        fail(
            f"{count(len(findings), 'handler')} can swallow a failed assertion: {findings[0]}",
            expected="no `except AssertionError`, `except BaseException`, bare `except:`, or `except Exception`"
            " around an assert in a test",
            got="\n".join(str(finding) for finding in findings[:5]),
            hint="let assertions propagate; to expect an error use `with pytest.raises(TheExactError):`",
        )


def check_errors_are_expected_by_their_class(run_info):
    """pytest.raises names the exact error class, never Exception"""
    findings = broad_raises(run_info.impl_dir)
    if findings:
        fail(
            f"{count(len(findings), 'error expectation')} would pass any exception: {findings[0]}",
            expected="pytest.raises(InvalidInterval), pytest.raises(Conflict), ...: the class the README names",
            got="\n".join(str(finding) for finding in findings[:5]),
            hint="a wrong error (a TypeError, a ValueError) passes pytest.raises(Exception) as well as the right one",
        )


def check_the_unit_is_not_mocked(suite):
    """No test replaces a function, class or method of the scheduler module"""
    result = _ran(suite)
    mocked = [test for test in result.tests.values() if test.mocked]
    if mocked:
        first = mocked[0]
        fail(
            f"{count(len(mocked), 'test')} replaced part of the module they test: {first.nodeid}",
            expected="tests that call the real scheduler module",
            got=f"{first.nodeid} replaced scheduler.{', scheduler.'.join(first.mocked[:3])}",
            hint="a mocked unit passes whatever the real one does: drop mock.patch/monkeypatch on scheduler",
        )
