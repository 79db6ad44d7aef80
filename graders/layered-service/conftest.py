"""Fixtures for this lab's stages: the learner's server on a fresh database per check, and the grader's probes,
modules of its own that run in the learner's processes next to the learner's package."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from api import Api
from labkit.driver import Driver
from labkit.learners import LearnerProcess, RunInfo, learner_fixture
from labkit.services import PostgresEndpoint, fresh_postgres_database, learner_role

PROBES = Path(__file__).parent / "probes"


@pytest.fixture(scope="module")
def stage_databases(postgres_server: PostgresEndpoint) -> Iterator[tuple[PostgresEndpoint, PostgresEndpoint]]:
    """One database per stage, as the superuser (the grader's inspection) and as the learner's role. Checks keep
    apart by their seeded skus and ids, so a stage pays for one database and one server, not one per check."""
    with fresh_postgres_database(postgres_server) as admin, learner_role(admin) as learner:
        yield admin, learner


@pytest.fixture
def admin_db(stage_databases: tuple[PostgresEndpoint, PostgresEndpoint]) -> PostgresEndpoint:
    return stage_databases[0]


@pytest.fixture
def service_env(stage_databases: tuple[PostgresEndpoint, PostgresEndpoint]) -> dict[str, str]:
    """How the learner's program reaches the stage's database (README.md, "How the grader runs your program")."""
    return {"DATABASE_URL": stage_databases[1].dsn()}


server = learner_fixture(scope="module", env=lambda service_env: service_env)


@pytest.fixture
def api(server: LearnerProcess) -> Api:
    return Api(server.port or 0)


@pytest.fixture(scope="session")
def probe_folder(run_info: RunInfo) -> Path:
    """The probes copied under the run folder, which a sandboxed learner process can read too."""
    folder = run_info.run_dir / "layered-service-probes"
    if not folder.exists():
        shutil.copytree(PROBES, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture
def start_probe(start_driver, probe_folder: Path) -> Callable[..., Driver]:
    """``start_probe("lsprobe_imports", env)``: a fresh interpreter in which the grader's probe module runs."""

    def start(module: str, env: dict[str, str] | None = None) -> Driver:
        driver: Driver = start_driver(env=env, module=module, module_path=[probe_folder])
        return driver

    return start
