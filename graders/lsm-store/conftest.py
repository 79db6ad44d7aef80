"""Fixtures for the lsm-store stages: a store is a fresh DATA_DIR and the learner's server running on it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from labkit.learners import RunInfo
from store import StartLearner, Store

_folders = itertools.count(1)


@pytest.fixture
def open_store(start_learner: StartLearner, run_info: RunInfo) -> Iterator[Callable[..., Store]]:
    """A factory: ``open_store(memtable_bytes=4096)`` makes an empty DATA_DIR in the run's scratch folder (removed
    with it) and returns its Store, not started yet."""
    stores: list[Store] = []

    def open_(memtable_bytes: int = 4096) -> Store:
        folder = run_info.run_dir / "data" / str(next(_folders))
        folder.mkdir(parents=True)
        store = Store(start_learner, folder, memtable_bytes)
        stores.append(store)
        return store

    yield open_
    for store in stores:
        store.close()  # start_learner's teardown kills the programs


@pytest.fixture
def store(open_store: Callable[..., Store]) -> Store:
    """A store on a fresh DATA_DIR with MEMTABLE_BYTES=4096, not started yet."""
    return open_store()
