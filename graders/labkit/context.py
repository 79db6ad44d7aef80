"""Per-check context shared by the plugin and the network tools, so failures can carry a transcript, the
learner program's stderr and attached files without every grader passing them around.

A check may run probes in threads (``labkit.checks.concurrently``): they share the check's context, and each
probe's thread keeps a :class:`ProbeRecord` of its own (:func:`recording`): its log lines and attachments, handed
to the check in the probes' order, and the programs it started, so that a failure shows the programs of the probe
that failed."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from labkit.errors import HarnessError
from labkit.results import Artifact

if TYPE_CHECKING:
    from labkit.artifacts import CheckShelf, Content

MAX_TRANSCRIPT_LINES = 200


class WatchedProcess(Protocol):
    def stderr_tail(self) -> str: ...

    def exit_code(self) -> int | None: ...


@dataclass
class CheckContext:
    transcript: list[str] = field(default_factory=list)
    processes: list[WatchedProcess] = field(default_factory=list)
    dropped_lines: int = 0
    artifacts: list[Artifact] = field(default_factory=list)
    shelf: CheckShelf | None = None  # where this check's attachments go; set by the plugin while a check runs
    stderr_marks: dict[Path, int] = field(default_factory=dict)  # each known stderr file's size as the check began
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def log(self, line: str) -> None:
        with self._lock:  # a check's probes and helper threads log too
            if len(self.transcript) < MAX_TRANSCRIPT_LINES:
                self.transcript.append(line)
            else:
                self.dropped_lines += 1

    def capped_transcript(self) -> list[str]:
        if self.dropped_lines:
            return [*self.transcript, f"… {self.dropped_lines} more lines not recorded"]
        return list(self.transcript)

    def attach(self, name: str, content: Content, description: str = "") -> None:
        if self.shelf is None:
            raise HarnessError("attach() works only while a check runs (in the check, or a fixture it uses)")
        with self._lock:  # two probes attaching the same name get two files
            self.artifacts.append(self.shelf.store(name, content, description))

    def stderr_tail(self) -> str | None:
        tails = [tail for process in self.processes if (tail := process.stderr_tail())]
        return "\n".join(tails) if tails else None


_current = CheckContext()
_stderr_files: set[Path] = set()  # every learner program's stderr file of this grading run
_thread = threading.local()  # .probe: the ProbeRecord of the probe this thread runs, if any


@dataclass
class ProbeRecord:
    """What one probe of a check did: its log lines (not yet in the transcript) and the programs it started."""

    lines: list[str] = field(default_factory=list)
    processes: list[WatchedProcess] = field(default_factory=list)
    attachments: list[tuple[str, Content, str]] = field(default_factory=list)  # (name, content, description)


def current() -> CheckContext:
    return _current


def reset(shelf: CheckShelf | None = None) -> CheckContext:
    """A new check begins: what a running program wrote on stderr before it belongs to earlier checks."""
    global _current
    _current = CheckContext(shelf=shelf, stderr_marks={path: _size(path) for path in _stderr_files})
    return _current


def track_stderr(path: Path) -> None:
    """A learner program writes its stderr to ``path``; a check's report shows what it wrote during that check.
    A program started now (perhaps in a file it reuses) wrote all of it during this check."""
    _stderr_files.add(path)
    _current.stderr_marks.pop(path, None)


def stderr_start(path: Path) -> int:
    """Where this check's part of a stderr file begins: 0 for a program started during the check."""
    return _current.stderr_marks.get(path, 0)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def log(line: str) -> None:
    probe: ProbeRecord | None = getattr(_thread, "probe", None)
    if probe is None:
        _current.log(line)
    else:
        probe.lines.append(line)


def watch(process: WatchedProcess) -> None:
    """A learner program started for the current check: a failure reports its stderr and how it ended."""
    _current.processes.append(process)
    probe: ProbeRecord | None = getattr(_thread, "probe", None)
    if probe is not None:
        probe.processes.append(process)


def attach(name: str, content: Content, description: str = "") -> None:
    """Keeps a file with the current check's report; a probe's wait until the probes ended, to be kept in order."""
    probe: ProbeRecord | None = getattr(_thread, "probe", None)
    if probe is None:
        _current.attach(name, content, description)
    else:
        probe.attachments.append((name, content, description))


@contextlib.contextmanager
def recording(probe: ProbeRecord) -> Iterator[None]:
    """While the block runs, this thread's log lines and attachments are kept in ``probe`` (for the caller to hand
    to the check later, in order), and the programs it starts are noted there too; threads it starts log and
    attach straight to the check."""
    previous = getattr(_thread, "probe", None)
    _thread.probe = probe
    try:
        yield
    finally:
        _thread.probe = previous
