"""`labkit watch`: grade again whenever a file of the implementation is saved.

Each grading is a `labkit grade` child in a session of its own, so that a save during a run stops it exactly as
Ctrl-C stops `labkit grade` (SIGINT, then the grader's own teardown of learners, services and scratch folders),
and Ctrl-C in the terminal reaches only this loop, which then stops the child the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import watchfiles
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from labkit.engine import interruptible
from labkit.interrupts import sigterm_as_interrupt

# Editors save in several writes (a temporary file, a rename, a chmod): changes this close together are one save.
DEBOUNCE_MS = 400
QUIET_STEP_MS = 50
TICK_MS = 200  # how often the loop looks at the grading in progress while no file changes
POLL_DELAY_MS = 300
SETTLE_TIMEOUT_S = 40.0  # a grader's teardown after SIGINT: servers stopping on a loaded machine
FAILING = ("failed", "timeout", "error")


class ImplementationFilter(watchfiles.DefaultFilter):
    """What counts as a save: the learner's files, not caches, editors' scratch files or what programs log."""

    ignore_entity_patterns = (*watchfiles.DefaultFilter.ignore_entity_patterns, r"\.log$", r"^\.labkit")


@dataclass(frozen=True)
class Verdict:
    """What one grading found, read from its JSON results."""

    points: float
    max_points: int
    failure: str | None  # "stage N slug · check": the first check that did not pass
    message: str | None


class Grading:
    """One `labkit grade` child writing its JSON results to ``results`` and its terminal report to our stdout."""

    def __init__(self, command: list[str], results: Path) -> None:
        self.results = results
        results.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_interruptible_once_started
        )

    def exit_code(self) -> int | None:
        return self.process.poll()

    def cancel(self) -> None:
        """Stops the run as Ctrl-C would, waiting for its teardown; kills it only if that never ends."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=SETTLE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def verdict(self) -> Verdict | None:
        try:
            data = json.loads(self.results.read_text(encoding="utf-8"))
            lab = data["labs"][0]
        except (OSError, ValueError, KeyError, IndexError):
            return None
        return first_failure(lab)


def _interruptible_once_started() -> None:
    """The grading child takes SIGINT, but holds it until `python -m labkit` has started (it lifts the hold): an
    interpreter interrupted while starting prints a traceback of its own start-up."""
    interruptible()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def first_failure(lab: dict[str, object]) -> Verdict:
    points, max_points = float(str(lab["points"])), int(str(lab["max_points"]))
    if lab.get("error"):
        return Verdict(points, max_points, "harness error (not your fault)", str(lab["error"]))
    for stage in cast(list[dict[str, Any]], lab["stages"]):
        for check in stage["checks"]:
            if check["status"] in FAILING:
                where = f"stage {stage['index']} {stage['slug']} · {check['name']}"
                return Verdict(points, max_points, where, check["message"])
    return Verdict(points, max_points, None, None)


@dataclass(frozen=True)
class WatchOptions:
    lab_id: str
    impl: Path
    grade_args: tuple[str, ...] = ()  # passed on to every `labkit grade`
    force_polling: bool = False


class Watcher:
    def __init__(self, options: WatchOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.scratch = Path(tempfile.mkdtemp(prefix="labkit-watch-"))
        self.grading: Grading | None = None
        self.reported = True

    def run(self) -> int:
        """Grades now and after every save until Ctrl-C or SIGTERM; returns the exit code of `labkit watch` (0)."""
        try:
            with sigterm_as_interrupt():
                self._watch_and_grade()
        except KeyboardInterrupt:
            if self.grading is not None and self.grading.exit_code() is None:
                self.console.print("stopping the grading in progress…", style="dim")
                self.grading.cancel()
            self.console.print("labkit watch: stopped")
        finally:
            if self.grading is not None:
                self.grading.cancel()  # already over, unless something other than Ctrl-C ended the loop
            shutil.rmtree(self.scratch, ignore_errors=True)
        return 0

    def _watch_and_grade(self) -> None:
        self._start("first run")
        # Closed on the way out, Ctrl-C included: a watch left suspended keeps watchfiles' notifier running, and
        # the interpreter may wait for it when it exits.
        with contextlib.closing(self._changes()) as saves:
            for changes in saves:
                if changes:
                    self._restart(changes)
                else:
                    self._report_if_done()

    def _changes(self) -> Generator[set[tuple[watchfiles.Change, str]], None, None]:
        """File events, or polling where they cannot be had (the learner is told which and why)."""
        polling = self.options.force_polling or _windows_drive_under_wsl(self.options.impl)
        if self.options.force_polling:
            self.console.print(f"polling {self.options.impl} every {POLL_DELAY_MS} ms (--poll)", style="yellow")
        elif polling:
            self.console.print(
                f"file events do not reach Linux from a Windows drive; polling {self.options.impl} every "
                f"{POLL_DELAY_MS} ms instead",
                style="yellow",
            )
        try:
            yield from self._watch(polling)
        except (OSError, RuntimeError) as error:  # inotify watches exhausted, a file system without events
            if polling:
                raise
            self.console.print(
                f"file events do not work here ({error}); polling every {POLL_DELAY_MS} ms instead", style="yellow"
            )
            yield from self._watch(True)

    def _watch(self, polling: bool) -> Iterator[set[tuple[watchfiles.Change, str]]]:
        return watchfiles.watch(
            self.options.impl,
            watch_filter=ImplementationFilter(),
            debounce=DEBOUNCE_MS,
            step=QUIET_STEP_MS,
            rust_timeout=TICK_MS,
            yield_on_timeout=True,
            force_polling=polling,
            poll_delay_ms=POLL_DELAY_MS,
        )

    def _restart(self, changes: set[tuple[watchfiles.Change, str]]) -> None:
        names = sorted({_relative(path, self.options.impl) for _, path in changes})
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        if self.grading is not None and self.grading.exit_code() is None:
            self.console.print(f"{shown} changed: stopping the grading in progress…", style="yellow")
            self.grading.cancel()
        self._start(f"{shown} changed")

    def _start(self, why: str) -> None:
        self.console.rule(f"grading {self.options.lab_id} ({why})", style="cyan")
        results = self.scratch / "results.json"
        command = [
            sys.executable, "-m", "labkit", "grade", self.options.lab_id, "--impl", str(self.options.impl),
            *self.options.grade_args, "--format", "json", "--out", str(results),
        ]  # fmt: skip
        # Ctrl-C arriving while the child is being started waits until it is known as the grading in progress:
        # raised inside Popen, it would leave a child nobody stops.
        with _signals_held():
            self.grading = Grading(command, results)
        self.reported = False

    def _report_if_done(self) -> None:
        if self.reported or self.grading is None or (code := self.grading.exit_code()) is None:
            return
        self.reported = True
        verdict = self.grading.verdict()
        if verdict is None:
            self.console.print(f"grading stopped without results (exit {code}): see above", style="magenta")
        else:
            self.console.print(_banner(self.options.lab_id, verdict))
        self.console.print(f"watching {self.options.impl} for changes (Ctrl-C to stop)", style="dim")


def _banner(lab_id: str, verdict: Verdict) -> Panel:
    score = f"{verdict.points:g}/{verdict.max_points}"
    if verdict.failure is None:
        return Panel(Text(f"✓ passed: every check of {lab_id} that ran passed ({score})", style="bold green"))
    text = Text.assemble(("✗ first failing check: ", "bold red"), (verdict.failure, "bold"), f"  ({score})")
    if verdict.message:
        text.append("\n" + verdict.message.splitlines()[0])
    return Panel(text, border_style="red")


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path


def _windows_drive_under_wsl(folder: Path) -> bool:
    """WSL delivers no inotify events for files on a Windows drive (/mnt/c/...)."""
    return "microsoft" in os.uname().release.lower() and folder.resolve().parts[1:2] == ("mnt",)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM arriving inside the block are raised again, with their own handlers, when it ends. Their
    handlers are swapped rather than the signals masked: a mask is per thread, and another thread (watchfiles')
    may be the one the signal reaches."""
    caught: list[int] = []

    def remember(number: int, _frame: object) -> None:
        caught.append(number)

    previous = {held: signal.signal(held, remember) for held in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)
        for number in dict.fromkeys(caught):
            signal.raise_signal(number)
