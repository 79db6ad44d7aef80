"""Reading a server-streaming Watch call with deadlines: a thread drains the stream into a queue, so the check
can wait for the next change with a timeout and cancel the call whenever it likes."""

from __future__ import annotations

import queue
import threading

import grpc

from grpcwire import FAILURE_HINTS, Message, Stub, show, status_of
from labkit.checks import fail, log

STREAM_LIFETIME_S = 30.0  # a backstop: every check cancels its streams long before this
NEXT_CHANGE_S = 2.0
_ENDED = object()


class WatchStream:
    def __init__(
        self,
        stub: Stub,
        request: Message,
        metadata: tuple[tuple[str, str], ...],
        label: str,
        timeout: float = STREAM_LIFETIME_S,
    ) -> None:
        self.label = label
        self.request = request
        self.received: queue.Queue[object] = queue.Queue()
        self.ended: tuple[grpc.StatusCode, str] | None = None  # set by the reading thread when the stream ends
        log(f"{label} → Watch {show(request)}")
        self.call = stub.Watch(request, metadata=metadata, timeout=timeout)
        threading.Thread(target=self._drain, name=label, daemon=True).start()

    def _drain(self) -> None:
        try:
            for change in self.call:
                self.received.put(change)
            self.ended = (grpc.StatusCode.OK, "")
            self.received.put(_ENDED)
        except grpc.RpcError as error:
            self.ended = status_of(error)
            self.received.put(error)

    def next(self, what: str, timeout: float = NEXT_CHANGE_S) -> Message:
        """The next change on the stream; fails if none arrives within ``timeout`` or the stream ended."""
        try:
            got = self.received.get(timeout=timeout)
        except queue.Empty:
            fail(
                f"{self.label}: {what} did not arrive within {timeout:g} s",
                expected=what,
                got="nothing on the Watch stream",
                hint="publish every change to every registered watcher whose prefix matches, as it happens",
            )
        if got is _ENDED:
            fail(
                f"{self.label}: your server ended the Watch stream while the grader waited for {what}",
                hint="a Watch stream stays open until the client cancels it or its deadline passes",
            )
        if isinstance(got, grpc.RpcError):
            code, details = status_of(got)
            log(f"{self.label} ← {code.name} {details!r}")
            fail(
                f"{self.label}: the Watch stream failed with status {code.name} while the grader waited for {what}",
                expected=what,
                got=f"{code.name}: {details}",
                hint=FAILURE_HINTS.get(code),
            )
        log(f"{self.label} ← {show(got)}")
        return got

    def expect_open(self) -> None:
        """Fails if the server has already ended this stream, which it never does on its own."""
        if self.ended is None:
            return
        code, details = self.ended
        fail(
            f"{self.label}: your server ended the Watch stream {{prefix: {self.request.prefix!r}}} with status "
            f"{code.name} right away",
            expected="an open stream that delivers changes",
            got=f"{code.name}: {details}",
            hint=FAILURE_HINTS.get(code, "a Watch stream stays open until the client cancels it"),
        )

    def ended_status(self, timeout: float = NEXT_CHANGE_S) -> tuple[grpc.StatusCode, str] | None:
        """The status the stream ended with if it ended without sending a change, else None."""
        try:
            got = self.received.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(got, grpc.RpcError):
            return status_of(got)
        if got is _ENDED:
            return grpc.StatusCode.OK, ""
        log(f"{self.label} ← {show(got)}")
        return None

    def cancel(self) -> None:
        if self.call.cancel():
            log(f"{self.label}: cancelled the Watch call")
