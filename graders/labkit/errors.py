"""The two error families of labkit.

A ``CheckFailed`` is the learner's fault: a check observed behaviour that differs from the spec. It is shown
without a traceback, as Expected / Got / Hint. A ``HarnessError`` is ours or the machine's: no Docker engine,
a port clash, a malformed lab.toml. It must never be reported as the learner's zero.
"""

from __future__ import annotations


class LabkitError(Exception):
    """Base of every error labkit raises on purpose."""


class HarnessError(LabkitError):
    """Infrastructure or configuration failure; exit code 2, never counted against the learner."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\nHint: {self.hint}"


class LabConfigError(HarnessError):
    """A lab.toml (or run.toml) is missing, unreadable or inconsistent."""


class ServiceUnavailable(HarnessError):
    """A PostgreSQL or Redis provider could not start or reach its server."""


class CheckFailed(LabkitError):
    """The learner's implementation did not behave as specified."""

    def __init__(
        self,
        message: str,
        *,
        expected: str | None = None,
        got: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.got = got
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class CheckTimedOut(LabkitError):
    """Raised inside a check when its time budget from lab.toml runs out."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds
