"""Fixtures for the wire-formats stages: the oracle, and the learner's codec in a driver shared by a stage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import configuration

from labkit import context, fixtures
from labkit.catalog import resolve_run
from labkit.fixtures import launch_spec
from labkit.supervisor import LearnerProcess
from proto_codec import Codec, TrackedDriver
from proto_oracle import Oracle, compile_schema


@pytest.fixture(scope="session")
def oracle(grading, lab) -> Oracle:
    """shop.proto from the kit (never the learner's copy), compiled into this run's scratch folder."""
    scratch = grading.run_dir / "wire-formats"
    configuration.set_hypothesis_home_dir(scratch / "hypothesis")  # Hypothesis caches go here, not in the kit
    return Oracle(compile_schema(lab.folder / "shop.proto", scratch))


def start_process(grading, spec) -> LearnerProcess:
    """The harness's own way of starting a learner process (it may run it in a sandbox), where it has one."""
    start = getattr(fixtures, "start_process", None)
    return start(grading, spec) if start is not None else LearnerProcess.start(spec)


@pytest.fixture(scope="module")
def _stage_drivers(grading) -> Iterator[list[TrackedDriver]]:
    started: list[TrackedDriver] = []
    yield started
    for driver in started:
        driver.process.stop()


@pytest.fixture
def stage_driver(grading, _stage_drivers) -> TrackedDriver:
    """One driver process shared by the checks of a stage, replaced when a check left it dead or mid-call, so
    a crash is reported by the check that caused it. Starting a process per check would cost more than the
    checks themselves."""
    if _stage_drivers and _stage_drivers[-1].reusable():
        driver = _stage_drivers[-1]
        context.current().processes.append(driver.process)
        return driver
    if _stage_drivers:
        _stage_drivers[-1].process.stop()
    run = resolve_run(grading.lab, grading.impl)
    process = start_process(grading, launch_spec(grading))
    context.current().processes.append(process)
    driver = TrackedDriver(process, run.module or "")
    _stage_drivers.append(driver)
    driver.wait_ready(run.ready_timeout)
    return driver


@pytest.fixture
def codec(stage_driver, oracle) -> Codec:
    return Codec(stage_driver, oracle)
