"""Per-check context shared by the plugin and the network tools, so failures can carry a transcript, the
learner program's stderr and attached files without every grader passing them around."""

from __future__ import annotations

from dataclasses import dataclass, field
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

    def log(self, line: str) -> None:
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
        self.artifacts.append(self.shelf.store(name, content, description))

    def stderr_tail(self) -> str | None:
        tails = [tail for process in self.processes if (tail := process.stderr_tail())]
        return "\n".join(tails) if tails else None


_current = CheckContext()


def current() -> CheckContext:
    return _current


def reset(shelf: CheckShelf | None = None) -> CheckContext:
    global _current
    _current = CheckContext(shelf=shelf)
    return _current


def log(line: str) -> None:
    _current.log(line)
