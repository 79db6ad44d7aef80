"""Hostile: if pytest ever collected this folder, every check would pass and none would run."""

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    report.outcome = "passed"
    return report


def pytest_collection_modifyitems(items):
    items.clear()


def pytest_sessionfinish(session, exitstatus):
    session.exitstatus = 0
