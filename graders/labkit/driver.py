"""The grader's side of a driver: a proxy that calls functions of the learner's module in its own process.

``driver.call("transfer", 1, 2, 500)`` returns what the learner's function returned, or raises:
``LearnerRaised`` when the function raised (catch it to check an expected exception), or ``CheckFailed`` when
the call did not return in time or the process died. Either way the learner reads a verdict, never a traceback
of the grader. A driver that failed that way is no longer ``usable``: start another one (``labkit.pool`` does).
"""

from __future__ import annotations

import json
import os
import select
import signal
import threading
import time
from typing import Any

from labkit import context
from labkit.driver_main import decode_value, encode_value
from labkit.errors import CheckFailed
from labkit.render import show_value
from labkit.supervisor import LearnerProcess

MAX_REPLY_BYTES = 64 * 1024 * 1024
DEFAULT_CALL_TIMEOUT_S = 10.0
REPR_LIMIT = 120
STUB_RAISES = "NotImplementedError"  # what a starter's functions raise until they are written
STUB_HINT = "this function is still the starter's stub: implement it as the README describes"
TRACEBACK_HINT = "the traceback above is from your code; the spec in the lab README says what this call must do"


class LearnerRaised(CheckFailed):
    """The learner's function raised an exception; ``type_name`` and ``text`` say which."""

    def __init__(self, function: str, type_name: str, text: str, trace: str) -> None:
        stub = type_name == STUB_RAISES  # an untouched starter: its traceback says nothing new
        super().__init__(
            f"your {function}() raised {type_name}: {text}",
            got=None if stub else _last_lines(trace, 12),
            hint=STUB_HINT if stub else TRACEBACK_HINT,
        )
        self.function = function
        self.type_name = type_name
        self.text = text
        self.stub = stub  # the function is still the starter's: a grader's own advice does not apply yet


class CallTimedOut(CheckFailed):
    """The learner's function did not return in time; the driver stopped its process."""


class Driver:
    """One driver process. Calls are serialised per driver; use several drivers for concurrency."""

    def __init__(self, process: LearnerProcess, module: str) -> None:
        self.process = process
        self.module = module
        self._buffer = b""
        self._next_id = 1
        self._lock = threading.Lock()
        self._ready = False
        self._broken: str | None = None
        self._ended_by_grader = False

    def wait_ready(self, timeout: float) -> None:
        hello = self._read_message("module import", timeout)  # "your module import did not return..."
        if not hello.get("ready"):
            error = hello.get("error", {})
            raise CheckFailed(
                f"your module {self.module!r} could not be imported: {error.get('type')}: {error.get('message')}",
                got=_last_lines(str(error.get("traceback", "")), 12),
                hint=f"run `python -c 'import {self.module}'` in your lab folder to see the same error",
            )
        self._ready = True

    @property
    def usable(self) -> bool:
        """Ready, alive, and with no earlier call that hung, crashed, was interrupted or answered out of turn."""
        return self._ready and self._broken is None and self.process.exit_code() is None

    @property
    def ended_by_grader(self) -> bool:
        """Whether the grader ended this process (a hang it stopped, a kill, a replacement): not a crash."""
        return self._ended_by_grader

    def kill(self) -> None:
        """Ends the process with SIGKILL, as a crash would; a call in flight then fails. Safe from another
        thread than the caller's: the pipes stay open until :meth:`stop`."""
        self._end("the grader killed the process")
        self.process.send_signal(signal.SIGKILL)
        self.process.wait_exit(5.0)

    def stop(self) -> None:
        """Stops the process and everything it started (the supervisor's cleanup); not while a call is in flight."""
        self._end("the grader stopped the process")
        self.process.stop()

    def _end(self, reason: str) -> None:
        if self.process.exit_code() is None:  # a process that already ended did so by itself
            self._ended_by_grader = True
        self._break(reason)

    def call(self, function: str, *args: Any, timeout: float = DEFAULT_CALL_TIMEOUT_S, quiet: bool = False,
             **kwargs: Any) -> Any:  # fmt: skip
        with self._lock:
            if self._broken is not None:
                raise CheckFailed(f"cannot call your {function}(): {self._broken}")
            call_id = self._next_id
            self._next_id += 1
            shown = _call_repr(function, args, kwargs)
            if not quiet:
                context.log(f"→ {shown}")
            request = {"id": call_id, "call": function, "args": encode_value(args), "kwargs": encode_value(kwargs)}
            try:
                self._write(json.dumps(request).encode() + b"\n", function)
                reply = self._read_message(f"{function}()", timeout)
            except BaseException:
                # A check's timeout (or ^C) can land mid-call: its reply, if it ever comes, would answer the next.
                if self._broken is None:
                    self._break(f"an earlier call, {function}(), was interrupted before it returned")
                raise
            if reply.get("id") != call_id:
                self._break(f"the driver answered call {reply.get('id')} instead of {call_id}")
                raise CheckFailed(f"the reply to your {function}() was out of order; was stdout redirected?")
            if reply.get("ok"):
                value = decode_value(reply.get("value"))
                if not quiet:
                    context.log(f"← {_short(show_value(value))}")
                return value
            error = reply.get("error", {})
            if not quiet:
                context.log(f"← raised {error.get('type')}: {_short(str(error.get('message')))}")
            raise LearnerRaised(
                function, str(error.get("type")), str(error.get("message")), str(error.get("traceback"))
            )

    def _write(self, data: bytes, function: str) -> None:
        stdin = self.process.popen.stdin
        assert stdin is not None, "a driver process is started with pipes"
        try:
            stdin.write(data)
            stdin.flush()
        except (BrokenPipeError, ValueError) as error:
            raise self._died(f"{function}()") from error

    def _read_message(self, during: str, timeout: float) -> dict[str, Any]:
        stdout = self.process.popen.stdout
        assert stdout is not None, "a driver process is started with pipes"
        deadline = time.monotonic() + timeout  # a blocking read with what is left of it, not a polling wait
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._break(f"an earlier call, {during}, did not return")
                self.stop()
                raise CallTimedOut(
                    f"your {during} did not return within {timeout:g} s",
                    hint="look for a wait that never ends: a lock never released, a blocking read, an endless retry",
                )
            ready, _, _ = select.select([stdout], [], [], min(remaining, 0.5))
            if not ready:
                continue
            chunk = os.read(stdout.fileno(), 1 << 16)
            if not chunk:
                raise self._died(during)
            self._buffer += chunk
            if len(self._buffer) > MAX_REPLY_BYTES:
                self._break("a reply was too large")
                raise CheckFailed(f"the result of your {during} is larger than {MAX_REPLY_BYTES >> 20} MiB")
        line, _, self._buffer = self._buffer.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message

    def _died(self, during: str) -> CheckFailed:
        code = self.process.wait_exit(2.0)
        how = "ended" if code is None else f"exited with code {code}"
        self._break(f"the process running your module {how}")
        return CheckFailed(
            f"the process running your module {how} during {during}",
            hint="a crash, os._exit() or sys.exit() in your code ends the process; its stderr is below",
        )

    def _break(self, reason: str) -> None:
        if self._broken is None:
            self._broken = reason


def _call_repr(function: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [_short(show_value(arg), 40) for arg in args]
    parts += [f"{key}={_short(show_value(value), 40)}" for key, value in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def _short(text: str, limit: int = REPR_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _last_lines(text: str, count: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-count:])
