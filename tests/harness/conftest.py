"""Fixtures shared by the harness tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from labkit.services import EmbeddedProvider


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedProvider]:
    """Embedded PostgreSQL and Redis, started on first use and shared by one test module."""
    with EmbeddedProvider("test-run", tmp_path_factory.mktemp("services")) as provider:
        yield provider
