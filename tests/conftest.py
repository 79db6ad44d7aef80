"""Kit-wide test guards: nothing any grading run started may outlive the test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from labkit.sweep import marked_processes
from support import RUN_PREFIX


@pytest.fixture(scope="session", autouse=True)
def no_learner_process_left_behind() -> Iterator[None]:
    yield
    leftovers = marked_processes(RUN_PREFIX, prefix=True)
    described = [f"{p.pid} {' '.join(p.cmdline())}" for p in leftovers]
    for process in leftovers:
        process.kill()
    assert not leftovers, f"learner processes outlived their grading run: {described}"
