"""Runs inside the driver process, between the grader and the learner's ``btree`` module.

The grader owns the pager: this module builds it over the tree's file and hands it to the learner's ``BTree``,
so the page reads and writes the stages judge are counted here, never reported by the learner. Standard library
only: it is loaded by path in a process that sees nothing of the grader.
"""

from __future__ import annotations

import os
import traceback
import types
from collections import OrderedDict
from typing import Any

PAGE_SIZE = 4096


class Pager:
    """Fixed-size pages of one file, written through at once, with an LRU cache of ``cache_pages`` pages."""

    page_size = PAGE_SIZE

    def __init__(self, path: str, cache_pages: int) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._pages = os.fstat(self._fd).st_size // PAGE_SIZE
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._capacity = cache_pages
        self.reads = 0
        self.writes = 0
        self.disk_reads = 0

    def page_count(self) -> int:
        return self._pages

    def read(self, n: int) -> bytes:
        self._check_number(n)
        self.reads += 1
        page = self._cache.get(n)
        if page is None:
            self.disk_reads += 1
            page = os.pread(self._fd, PAGE_SIZE, n * PAGE_SIZE)
        self._remember(n, page)
        return page

    def write(self, n: int, data: bytes) -> None:
        self._check_number(n)
        if not isinstance(data, bytes | bytearray | memoryview) or len(data) != PAGE_SIZE:
            size = len(data) if isinstance(data, bytes | bytearray | memoryview) else type(data).__name__
            raise ValueError(f"pager.write({n}, ...) needs exactly {PAGE_SIZE} bytes, got {size}")
        page = bytes(data)
        self.writes += 1
        os.pwrite(self._fd, page, n * PAGE_SIZE)
        self._remember(n, page)

    def allocate(self) -> int:
        n = self._pages
        os.pwrite(self._fd, bytes(PAGE_SIZE), n * PAGE_SIZE)
        self._pages += 1
        return n

    def close(self) -> None:
        os.close(self._fd)

    def _check_number(self, n: object) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < self._pages:
            raise IndexError(f"page {n!r} is not in the file (it has {self._pages} pages)")

    def _remember(self, n: int, page: bytes) -> None:
        self._cache[n] = page
        self._cache.move_to_end(n)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)


class Session:
    """One open tree: the grader's calls arrive here as plain values."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self._tree: Any = None
        self._pager: Pager | None = None

    def open(self, path: str, cache_pages: int, leaf_max: int, internal_max: int) -> None:
        self._pager = Pager(path, cache_pages)
        self._tree = self._module.BTree(self._pager, leaf_max, internal_max)

    def refusal(self, path: str, leaf_max: Any, internal_max: Any) -> str | None:
        """The type of the exception ``BTree()`` raises for these capacities over a new file, or None."""
        pager = Pager(path, 16)
        try:
            self._module.BTree(pager, leaf_max, internal_max)
        except Exception as error:  # the learner's exception is the answer
            return type(error).__name__
        finally:
            pager.close()
        return None

    def run(self, operations: list[list[Any]]) -> dict[str, Any]:
        """Runs ``[name, *args]`` operations in order; for each, its result and the pages it read and wrote. The
        first exception ends the batch and is reported with the operation that raised it."""
        pager = self._opened()
        done: list[list[Any]] = []
        for name, *args in operations:
            reads, writes = pager.reads, pager.writes
            try:
                result = _plain(getattr(self._tree, name)(*args))
            except Exception as error:  # the learner's exception is data for the grader
                return {"done": done, "error": _describe(error)}
            done.append([result, pager.reads - reads, pager.writes - writes])
        return {"done": done, "error": None}

    def io(self) -> dict[str, int]:
        pager = self._opened()
        return {"reads": pager.reads, "writes": pager.writes, "disk_reads": pager.disk_reads}

    def close(self) -> None:
        pager = self._opened()
        try:
            self._tree.close()
        finally:
            pager.close()
            self._pager = None

    def _opened(self) -> Pager:
        if self._pager is None:
            raise RuntimeError("the grader called the tree before open()")  # a grader bug, shown as such
        return self._pager


def _plain(value: Any) -> Any:
    """Tuples become lists: what the pipe carries."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _describe(error: Exception) -> dict[str, str]:
    trace = "".join(
        traceback.format_exception(type(error), error, error.__traceback__.tb_next if error.__traceback__ else None)
    )
    return {"type": type(error).__name__, "message": str(error), "traceback": trace[-3000:]}


def wrap(module: Any) -> types.SimpleNamespace:
    session = Session(module)
    return types.SimpleNamespace(
        open=session.open, refusal=session.refusal, run=session.run, io=session.io, close=session.close
    )
