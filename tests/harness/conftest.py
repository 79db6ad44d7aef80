"""Fixtures shared by the harness tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.services import EmbeddedProvider


def _outside_pytest_temp() -> Path:
    """A folder of its own under /tmp. Embedded PostgreSQL runs as another account, which must traverse every
    ancestor of its data folder; pytest's base temp folder (/tmp/pytest-of-root) is made private again by every
    pytest session that starts on the machine, which would lock a running server out of its own files."""
    return Path(tempfile.mkdtemp(prefix="lktest-services-", dir="/tmp"))


@pytest.fixture
def services_dir() -> Iterator[Path]:
    """Where a test's embedded servers keep their data and logs."""
    folder = _outside_pytest_temp()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedProvider]:
    """Embedded PostgreSQL and Redis, started on first use and shared by one test module."""
    folder = _outside_pytest_temp()
    with EmbeddedProvider("test-run", folder) as provider:
        yield provider
    shutil.rmtree(folder, ignore_errors=True)
