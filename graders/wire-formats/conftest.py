"""Fixtures for the wire-formats stages: the oracle, and the learner's codec in a driver shared by a stage."""

from __future__ import annotations

import pytest
from hypothesis import configuration

from labkit.learners import RunInfo
from labkit.pool import DriverPool, driver_pool_fixture
from proto_codec import Codec
from proto_oracle import Oracle, compile_schema


@pytest.fixture(scope="session")
def oracle(run_info: RunInfo) -> Oracle:
    """shop.proto from the kit (never the learner's copy), compiled into this run's scratch folder."""
    scratch = run_info.run_dir / "wire-formats"
    configuration.set_hypothesis_home_dir(scratch / "hypothesis")  # Hypothesis caches go here, not in the kit
    return Oracle(compile_schema(run_info.lab_folder / "shop.proto", scratch))


# One driver process shared by the checks of a stage, replaced when a check left it dead or mid-call, so a crash
# is reported by the check that caused it. Starting a process per check would cost more than the checks themselves.
stage_driver = driver_pool_fixture(size=1, scope="module")


@pytest.fixture
def codec(stage_driver: DriverPool, oracle: Oracle) -> Codec:
    (driver,) = stage_driver.ready(1)
    return Codec(driver, oracle)
