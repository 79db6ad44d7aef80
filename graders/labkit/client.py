"""Run kind ``client``: the learner's program runs to completion against servers the grader runs.

It starts like a server (same limits, allow-listed environment, run marker, sweep, sandbox), reads its standard
input from a file the grader wrote, and is stopped at a timeout if it hangs. What it did comes back as a frozen
:class:`ClientResult`; :meth:`ClientResult.expect_exit` is the usual first check.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from labkit import context
from labkit.errors import CheckFailed
from labkit.supervisor import LaunchSpec, LearnerProcess

DEFAULT_TIMEOUT_S = 10.0
MIB = 1024 * 1024
STOP_WHEN_EVERY_S = 0.05  # how often a run with ``stop_when`` asks whether waiting longer is pointless


@dataclass(frozen=True)
class ClientResult:
    """One finished run of the learner's program."""

    command: tuple[str, ...]  # as started: the lab's (or run.toml's) command and the grader's arguments
    exit_code: int  # negative: the signal that ended it (SIGKILL when the grader stopped it at the timeout)
    stdout: bytes  # at most the lab's output limit ([limits] output_mb)
    stderr_tail: str
    duration_s: float
    timed_out: bool  # it was still running at the timeout and was stopped
    output_capped: bool  # it wrote as much as the output limit allows: what it wrote beyond is lost
    timeout_s: float
    output_limit_mb: int
    stopped_because: str | None = None  # the grader stopped it early: what ``stop_when`` said had happened

    @property
    def outcome(self) -> str:
        """How the run ended, in the words a learner reads."""
        if self.stopped_because is not None:
            return f"was stopped after {self.duration_s:.1f} s, when {self.stopped_because}"
        if self.timed_out:
            return f"was stopped: it had not finished after {self.timeout_s:g} s"
        if self.output_capped:
            return f"was stopped for writing more than {self.output_limit_mb} MiB of output"
        if self.exit_code < 0:
            return f"was killed by signal {_signal_name(-self.exit_code)}"
        return f"exited with code {self.exit_code}"

    def expect_exit(self, code: int = 0) -> None:
        """Fails the check unless the program ended by itself with ``code``."""
        if not (self.timed_out or self.output_capped or self.stopped_because) and self.exit_code == code:
            return
        hint = "see your program's stderr below"
        if self.stopped_because is not None:
            hint = "what stopped it is the finding: see the check's other messages"
        elif self.timed_out:
            hint = "it may wait for input that never comes or for a reply it should stop waiting for (a timeout)"
        elif self.output_capped:
            hint = "do not print per byte or in a tight loop; log less, or only on errors"
        # The headline says what came; a Got: line would only repeat it.
        raise CheckFailed(f"your program {self.outcome}", expected=f"exit code {code}", hint=hint)


def run_client_program(
    spec: LaunchSpec,
    *,
    stdin: bytes | None,
    timeout: float,
    start: Callable[[LaunchSpec], LearnerProcess] = LearnerProcess.start,
    started: list[LearnerProcess] | None = None,
    stop_when: Callable[[], str | None] | None = None,
) -> ClientResult:
    """Runs the program of ``spec`` to completion, or stops it at ``timeout`` seconds. ``started`` receives the
    process at once, so that whoever owns that list stops it if this call is interrupted (a check's time budget).
    ``stop_when()``, asked every 50 ms while it runs, stops it early by returning what happened (in words that
    follow "when": "your receiver had exited"): a run whose verdict is already settled need not be waited out."""
    if stdin is not None:
        spec.logs.mkdir(parents=True, exist_ok=True)
        (spec.logs / "stdin").write_bytes(stdin)
        spec = replace(spec, stdin=spec.logs / "stdin")
    context.log(f"ran your program: {' '.join(spec.command)}" + (f" ({len(stdin)} bytes on stdin)" if stdin else ""))
    process = start(spec)
    if started is not None:
        started.append(process)
    context.watch(process)
    began = time.monotonic()
    code, stopped_because = _wait(process, timeout, stop_when)
    duration = time.monotonic() - began
    process.stop()  # a hung program dies here; what an ended one left running (a child, a daemon) too
    if started is not None:
        started.remove(process)
    final = process.exit_code()
    assert final is not None, "a stopped process has an exit code"
    cap = spec.limits.output_mb * MIB
    sizes = [path.stat().st_size for path in (process.stdout_path, process.stderr_path) if path.exists()]
    result = ClientResult(
        command=spec.command,
        exit_code=final,
        stdout=process.stdout_path.read_bytes() if process.stdout_path.exists() else b"",
        stderr_tail=process.stderr_tail(),
        duration_s=duration,
        timed_out=code is None and stopped_because is None,
        output_capped=final == -signal.SIGXFSZ or any(size >= cap for size in sizes),
        timeout_s=timeout,
        output_limit_mb=spec.limits.output_mb,
        stopped_because=stopped_because,
    )
    context.log(f"your program {result.outcome} after {duration:.2f} s; {len(result.stdout)} bytes on stdout")
    return result


def _wait(
    process: LearnerProcess, timeout: float, stop_when: Callable[[], str | None] | None
) -> tuple[int | None, str | None]:
    """The program's exit code (None if it still runs) and, if ``stop_when`` ended the wait, what it said."""
    if stop_when is None:
        return process.wait_exit(timeout), None
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        if (code := process.wait_exit(min(left, STOP_WHEN_EVERY_S))) is not None:
            return code, None
        if (reason := stop_when()) is not None:
            return None, reason
    return process.wait_exit(0), None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
