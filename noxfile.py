"""Developer sessions: `nox` (lint, typecheck, tests), `nox -s grade -- tcp-kv`, `nox -s bench`."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True


def install(session: nox.Session) -> None:
    session.install("-e", ".[dev]")


@nox.session
def tests(session: nox.Session) -> None:
    install(session)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    install(session)
    session.run("ruff", "check", "graders", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "graders", "tests", "noxfile.py")
    session.run("python", "tests/contracts/grader_imports.py")  # lab graders use labkit's public API only


@nox.session
def typecheck(session: nox.Session) -> None:
    install(session)
    session.run("mypy")
    session.run("python", "tests/contracts/typecheck_graders.py")  # each lab's grader folder, as pytest imports it


@nox.session
def grade(session: nox.Session) -> None:
    """Passes its arguments to `labkit grade`, e.g. `nox -s grade -- tcp-kv --impl solutions/tcp-kv`."""
    install(session)
    session.run("labkit", "grade", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    install(session)
    session.run("python", "tests/bench/bench_grading.py", *session.posargs)
    # Each lab's grading against the previous commit (on a merge into main: main before the merge), in one run.
    session.run("python", "tests/bench/bench_labs.py", "--against", "HEAD~1", "--runs", "3")
    session.run("python", "tests/bench/bench_cohort.py")
    session.run("python", "tests/bench/bench_containers.py")  # docker vs embedded, sandbox vs process
    session.run("python", "tests/bench/bench_suite.py", "--last")  # the suite takes half an hour: a past run's times


@nox.session
def bench_suite(session: nox.Session) -> None:
    """The kit's own suite, once, with its time per group (harness, containers, labs, scenarios, parity)."""
    install(session)
    session.run("python", "tests/bench/bench_suite.py", *session.posargs)
