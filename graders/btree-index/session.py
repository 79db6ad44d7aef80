"""The grader's handle on a learner's tree: a driver process with the grader's pager, batches of operations, and
the file read back by the grader itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.checks import fail, log
from labkit.driver import Driver
from treefile import PAGE_SIZE, Tree, read_tree

ADAPTER = Path(__file__).with_name("tree_driver.py")
FULL_LEAF, FULL_INTERNAL = 255, 340  # what fits a 4 KiB page
Operation = list[Any]  # ["insert", key, value], ["get", key], ["scan", low, high, include_low, include_high]
STUB = "NotImplementedError"  # the starter's methods: their traceback says nothing new
TRACEBACK_HINT = "the traceback is from your code; the README's interface section says what each method must do"


@dataclass(frozen=True)
class Layout:
    leaf_max: int
    internal_max: int
    cache_pages: int = 64


@dataclass(frozen=True)
class Done:
    """One operation's answer and the pages it read and wrote through the grader's pager."""

    result: Any
    reads: int
    writes: int


@dataclass(frozen=True)
class Raised:
    """The operation that raised, and what."""

    index: int
    type_name: str
    message: str
    trace: str


class TreeSession:
    """One tree file; each :meth:`open` starts a fresh driver process over it (a restart, after the first)."""

    def __init__(self, start_driver: Callable[..., Driver], folder: Path, layout: Layout) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._start_driver = start_driver
        self.folder = folder
        self.path = folder / "tree.db"
        self.layout = layout
        self._driver: Driver | None = None

    def open(self) -> TreeSession:
        layout = self.layout
        log(
            f"BTree(pager over a {layout.cache_pages}-page cache, leaf_max={layout.leaf_max}, "
            f"internal_max={layout.internal_max})"
        )
        self._driver = self._start_driver(adapter=ADAPTER, writable=[self.folder])
        self._driver.call("open", str(self.path), layout.cache_pages, layout.leaf_max, layout.internal_max, quiet=True)
        return self

    def refusals(self, capacities: Sequence[tuple[Any, Any]]) -> list[str | None]:
        """For each (leaf_max, internal_max), what ``BTree()`` raised over a new file (its type name), or None."""
        driver = self._start_driver(adapter=ADAPTER, writable=[self.folder])
        try:
            answers = []
            for n, (leaf_max, internal_max) in enumerate(capacities):
                log(f"BTree(pager over a new file, leaf_max={leaf_max!r}, internal_max={internal_max!r})")
                probe = str(self.folder / f"capacities-{n}.db")
                answers.append(driver.call("refusal", probe, leaf_max, internal_max, quiet=True))
            return answers
        finally:
            driver.stop()

    def attempt(self, operations: Sequence[Operation], timeout: float = 30.0) -> tuple[list[Done], Raised | None]:
        """Runs a batch; the learner's exception, if any, ends it and is returned rather than failed."""
        log(f"→ {len(operations)} operation(s): {_preview(operations)}")
        reply = self.driver.call("run", list(operations), timeout=timeout, quiet=True)
        done = [Done(result, reads, writes) for result, reads, writes in reply["done"]]
        error = reply["error"]
        if error is None:
            return done, None
        return done, Raised(len(done), error["type"], error["message"], error["traceback"])

    def run(self, operations: Sequence[Operation], timeout: float = 30.0) -> list[Done]:
        """Runs a batch; the learner's exception fails the check, naming the operation that raised."""
        done, raised = self.attempt(operations, timeout)
        if raised is not None:
            fail(
                f"your {show(operations[raised.index])} raised {raised.type_name}: {raised.message}",
                got=None if raised.type_name == STUB else _last_lines(raised.trace, 12),
                hint=_raised_hint(raised.type_name, raised.message),
            )
        return done

    def io(self) -> dict[str, int]:
        counters: dict[str, int] = self.driver.call("io", quiet=True)
        return counters

    def close(self) -> None:
        self.driver.call("close", quiet=True)
        self.driver.stop()
        self._driver = None

    def kill(self) -> None:
        """SIGKILL between two calls, as a crash would."""
        self.driver.kill()
        self.driver.stop()
        self._driver = None

    def pages(self) -> int:
        """The file's size in pages, without reading it."""
        return self.path.stat().st_size // PAGE_SIZE

    def file(self) -> Tree:
        """The file as the grader reads it, every rule checked."""
        return read_tree(self.path, self.layout.leaf_max, self.layout.internal_max)

    @property
    def driver(self) -> Driver:
        if self._driver is None:
            raise RuntimeError("the tree is not open")
        return self._driver


def show(operation: Operation) -> str:
    name, *args = operation
    if name == "scan" and len(args) == 2:
        return f"scan({args[0]}, {args[1]})"  # the flags left to their defaults
    if name == "scan":
        low, high, include_low, include_high = args
        return f"scan({low}, {high}, include_low={include_low}, include_high={include_high})"
    return f"{name}({', '.join(repr(arg) for arg in args)})"


def _preview(operations: Sequence[Operation], count: int = 4) -> str:
    shown = ", ".join(show(operation) for operation in operations[:count])
    return shown + (", …" if len(operations) > count else "")


def _raised_hint(type_name: str, message: str) -> str:
    if type_name == STUB:
        return "this method is still the starter's stub: implement it as the README describes"
    if "File too large" in message:
        return "your program's output reached the output cap of the lab's [limits]: print less (or nothing) per call"
    if type_name == "IndexError":
        return "pager.read/write take a page below pager.page_count(); take new pages with pager.allocate()"
    return TRACEBACK_HINT


def _last_lines(text: str, count: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-count:])
