"""The two error families of labkit, and the timeout that ends a check.

A ``CheckFailed`` is the learner's fault: a check observed behaviour that differs from the spec. It is shown
without a traceback, as Expected / Got / Hint. A ``HarnessError`` is ours or the machine's: no Docker engine,
a port clash, a malformed lab.toml. It must never be reported as the learner's zero. A ``CheckTimedOut`` is
neither an error to handle nor a failure to wrap: it ends the check, whatever the check's own code catches.
"""

from __future__ import annotations

from _pytest.outcomes import OutcomeException


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


class SandboxLost(HarnessError):
    """The container holding a sandboxed run's network stopped mid-run, and checks that came after could not start
    the learner's program: no check of the run can be trusted, and the whole lab is graded again."""


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


class CheckTimedOut(OutcomeException):
    """Raised inside a check when its time budget from lab.toml runs out.

    A BaseException, as pytest's own outcomes (skip, fail, exit) are, so that an ``except Exception`` around a
    blocking call cannot swallow it and let the check go on, or pass. Deriving from pytest's outcome base (not
    from BaseException directly) keeps pytest's fixture machinery whole: a fixture that times out in set-up is
    cached as failed and torn down like one that raised, instead of being left half-registered."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s", pytrace=False)
        self.seconds = seconds
