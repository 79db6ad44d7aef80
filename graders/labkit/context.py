"""Per-check context shared by the plugin and the network tools, so failures can carry a transcript and the
learner program's stderr without every grader passing them around."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

MAX_TRANSCRIPT_LINES = 200


class WatchedProcess(Protocol):
    def stderr_tail(self) -> str: ...

    def exit_code(self) -> int | None: ...


@dataclass
class CheckContext:
    transcript: list[str] = field(default_factory=list)
    processes: list[WatchedProcess] = field(default_factory=list)
    dropped_lines: int = 0

    def log(self, line: str) -> None:
        if len(self.transcript) < MAX_TRANSCRIPT_LINES:
            self.transcript.append(line)
        else:
            self.dropped_lines += 1

    def capped_transcript(self) -> list[str]:
        if self.dropped_lines:
            return [*self.transcript, f"… {self.dropped_lines} more lines not recorded"]
        return list(self.transcript)

    def stderr_tail(self) -> str | None:
        tails = [tail for process in self.processes if (tail := process.stderr_tail())]
        return "\n".join(tails) if tails else None


_current = CheckContext()


def current() -> CheckContext:
    return _current


def reset() -> CheckContext:
    global _current
    _current = CheckContext()
    return _current


def log(line: str) -> None:
    _current.log(line)
