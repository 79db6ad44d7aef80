"""The one-thread selector loop behind the fault proxies.

Every socket of a proxy is touched by its loop thread only. The grader's thread acts through :meth:`call`, which
runs a function on the loop between two ``select`` calls and waits for its result, so a control such as
``partition()`` has taken effect when it returns and ``stats()`` sees every byte a client has already observed.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from labkit.errors import HarnessError

T = TypeVar("T")

CONTROL_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 5.0

# The selector's key.data of every registered socket: called with the ready event mask.
Handler = Callable[[int], None]


class SelectorLoop:
    """Subclasses register sockets on ``self.selector`` with a :data:`Handler`, do their timed work in
    :meth:`_step` and close their sockets in :meth:`_teardown`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        for end in (self._wake_reader, self._wake_writer):
            end.setblocking(False)
        self.selector.register(self._wake_reader, selectors.EVENT_READ, self._drain_wakeups)
        self._lock = threading.Lock()
        self._actions: deque[tuple[Callable[[], Any], Future[Any]]] = deque()
        self._stopping = False
        self._stopped = False
        self._crash: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _start(self) -> None:
        self._thread.start()

    def _step(self) -> float | None:
        """Work due now (timed releases, flushes, interest updates); returns how long ``select`` may wait."""
        raise NotImplementedError

    def _teardown(self) -> None:
        raise NotImplementedError

    def call(self, action: Callable[[], T]) -> T:
        """Runs ``action`` on the loop thread and returns its result (or raises its exception)."""
        future: Future[T] = Future()
        with self._lock:
            if self._stopped:
                raise HarnessError(f"{self.name} is closed{self._crash_note()}")
            self._actions.append((action, future))
        self._wake()
        try:
            return future.result(timeout=CONTROL_TIMEOUT_S)
        except TimeoutError:
            raise HarnessError(f"{self.name} did not answer within {CONTROL_TIMEOUT_S:g} s") from None

    def _stop(self) -> None:
        """Stops the loop and waits for its thread; calling it again does nothing."""
        self._stopping = True
        self._wake()
        self._thread.join(STOP_TIMEOUT_S)
        if self._thread.is_alive():
            raise HarnessError(f"{self.name} did not stop within {STOP_TIMEOUT_S:g} s")

    def _wake(self) -> None:
        # Full means a wake-up is already pending; closed means the loop has stopped.
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")

    def _drain_wakeups(self, mask: int) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except BlockingIOError:
            pass

    def _run(self) -> None:
        try:
            while not self._stopping:
                self._run_actions()
                timeout = self._step()
                for key, mask in self.selector.select(timeout):
                    key.data(mask)
        except BaseException as error:  # handed to the grader's next call instead of dying unseen
            self._crash = error
        finally:
            with self._lock:
                self._stopped = True
                abandoned = list(self._actions)
                self._actions.clear()
            for _, future in abandoned:
                future.set_exception(HarnessError(f"{self.name} is closed{self._crash_note()}"))
            try:
                self._teardown()
            finally:
                self.selector.close()
                self._wake_reader.close()
                self._wake_writer.close()

    def _run_actions(self) -> None:
        while True:
            with self._lock:
                if not self._actions:
                    return
                action, future = self._actions.popleft()
            try:
                future.set_result(action())
            except Exception as error:
                future.set_exception(error)

    def _crash_note(self) -> str:
        return f" (its loop failed: {self._crash!r})" if self._crash else ""
