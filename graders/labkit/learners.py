"""The learner's program as a lab's grader sees it: its handle, the facts of the run, and fixture factories.

A lab's conftest.py builds the fixtures its stages need from these, so no grader reaches into the harness::

    server = learner_fixture(scope="session", env=lambda site: {"DOCROOT": str(site.public)})

``env`` is a mapping or a function whose parameters name other fixtures (``site`` above); its result is added
to the program's allow-listed environment. ``scope`` says how long one program serves: ``"function"`` a fresh one
per check, ``"module"`` one per stage, ``"session"`` one per run. A program a check left dead is replaced for the
next check, so a crash is blamed on the check that caused it and does not cascade.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from labkit import context
from labkit.client import ClientResult
from labkit.cluster import Cluster, ClusterNode
from labkit.errors import CheckFailed
from labkit.plugin import GradingState
from labkit.readiness import Readiness
from labkit.supervisor import LearnerProcess

__all__ = [
    "ClientResult",
    "Cluster",
    "ClusterNode",
    "EnvSource",
    "LearnerProcess",
    "RunInfo",
    "fixture_env",
    "learner_fixture",
]

Scope = Literal["function", "module", "session"]
EnvSource = Mapping[str, str] | Callable[..., Mapping[str, str]] | None


@dataclass(frozen=True)
class RunInfo:
    """What a grader may know about the run (the ``run_info`` fixture)."""

    lab_id: str
    lab_folder: Path  # the lab's spec folder (labs/<lab>), e.g. for a .proto the learner also has
    impl_dir: Path  # the learner's implementation folder: read files there, never import from it
    run_dir: Path  # this run's scratch folder, for files the grader prepares (datasets, document roots)
    seed: int  # the run's seed: derive randomness from it so `--seed N` replays the run
    sandbox: str  # "process" or "docker"
    run_id: str  # labels what the grader creates on a Docker engine, so that labkit's sweeps find it

    @classmethod
    def of(cls, grading: GradingState) -> RunInfo:
        config = grading.config
        return cls(
            lab_id=grading.lab.id,
            lab_folder=grading.lab.folder,
            impl_dir=config.impl,
            run_dir=config.run_dir,
            seed=config.choices.seed,
            sandbox=config.choices.sandbox,
            run_id=config.run_id,
        )


def fixture_env(env: EnvSource, request: pytest.FixtureRequest) -> Mapping[str, str]:
    """``env`` resolved: a function is called with the fixtures its parameters name."""
    if callable(env):
        names = inspect.signature(env).parameters
        return env(**{name: request.getfixturevalue(name) for name in names})
    return env or {}


def learner_fixture(
    *, scope: Scope = "function", env: EnvSource = None, ready: Readiness | None = None, args: Sequence[str] = ()
) -> Callable[..., Any]:
    """A fixture giving the learner's program, started and ready, for a lab's conftest.py (see the module doc)."""
    from labkit.fixtures import start_ready, wait_ready_again  # labkit.fixtures imports this module for RunInfo

    key = pytest.StashKey[list[LearnerProcess]]()
    unready = pytest.StashKey[tuple[LearnerProcess, CheckFailed]]()

    def program(grading: GradingState, request: pytest.FixtureRequest) -> LearnerProcess:
        owner = _owner(request, scope)
        if key not in owner.stash:
            processes = owner.stash[key] = []
            owner.addfinalizer(lambda: _stop_all(processes))
        processes = owner.stash[key]
        if processes and processes[-1].exit_code() is None:
            context.current().processes.append(processes[-1])  # its stderr belongs to this check's report too
            if (never := owner.stash.get(unready, None)) is not None and never[0] is processes[-1]:
                # Still running but never ready: one short look, not the full wait again for every check.
                wait_ready_again(grading, processes[-1], never[1], ready=ready)
                del owner.stash[unready]
            return processes[-1]
        try:
            return start_ready(grading, processes, fixture_env(env, request), ready=ready, args=args)
        except CheckFailed as failure:
            if scope != "function" and processes and processes[-1].exit_code() is None:
                owner.stash[unready] = (processes[-1], failure)
            raise

    return pytest.fixture(program)


def _owner(request: pytest.FixtureRequest, scope: Scope) -> pytest.Item | pytest.Collector:
    """The node whose end stops the programs: the check, its stage's module, or the session."""
    node: pytest.Item = request.node
    if scope == "function":
        return node
    kind = pytest.Module if scope == "module" else pytest.Session
    owner: pytest.Collector | None = node.getparent(kind)
    if owner is None:
        raise RuntimeError(f"no {kind.__name__} above {node.nodeid}")
    return owner


def _stop_all(processes: list[LearnerProcess]) -> None:
    for process in processes:
        process.stop()
