"""An alternative design: no event loop. A scheduler on the main thread hands attempts to a pool of LIMIT threads
(blocking http.client), keeps a heap of retries waiting for their time, enforces each attempt's deadline by shutting
its socket down, and sends digests to a multiprocessing.Pool. The heartbeat is a socketserver thread; SIGINT is a
KeyboardInterrupt on the main thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import http.client
import multiprocessing
import os
import queue
import random
import socket
import socketserver
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

RETRYABLE = {429, 500, 502, 503, 504}


def digest(body: bytes, rounds: int) -> str:
    value = body
    for _ in range(rounds):
        value = hashlib.sha256(value).digest()
    return value.hex()


class Pong(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        for line in self.rfile:
            if line.strip() == b"ping":
                self.wfile.write(b"pong\n")


class PongServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Attempt:
    """One request in flight; the scheduler may cut it short by shutting its socket down."""

    def __init__(self, index: int, method: str, path: str, deadline: float) -> None:
        self.index, self.method, self.path, self.deadline = index, method, path, deadline
        self.connection: http.client.HTTPConnection | None = None
        self.cut = False
        self.lock = threading.Lock()

    def cut_short(self) -> None:
        with self.lock:
            self.cut = True
            if self.connection is not None and self.connection.sock is not None:
                with contextlib.suppress(OSError):
                    self.connection.sock.shutdown(socket.SHUT_RDWR)


class Scheduler:
    def __init__(self) -> None:
        upstream = urlsplit(os.environ["UPSTREAM"])
        self.host, self.port = upstream.hostname or "127.0.0.1", upstream.port or 80
        self.limit = int(os.environ["LIMIT"])
        self.timeout = int(os.environ["TIMEOUT_MS"]) / 1000
        self.retries = int(os.environ["RETRIES"])
        self.backoff = int(os.environ["BACKOFF_MS"]) / 1000
        self.rounds = int(os.environ["ROUNDS"])
        self.events: queue.Queue[tuple[str, int, object]] = queue.Queue()
        self.threads = ThreadPoolExecutor(max_workers=self.limit)
        self.cpu = multiprocessing.Pool(int(os.environ["WORKERS"]))
        self.jobs: list[tuple[str, str]] = []
        self.outcomes: dict[int, str] = {}
        self.tries: dict[int, int] = {}
        self.in_flight: dict[int, Attempt] = {}
        self.waiting: list[tuple[float, int]] = []  # (when, job) retries
        self.digesting = 0
        self.next_job = 0
        # The tally, updated by the pool's threads: a read-modify-write needs the lock, or updates get lost.
        self.tally_lock = threading.Lock()
        self.attempts = 0
        self.bytes = 0

    def exchange(self, attempt: Attempt) -> tuple[int, str, bytes] | None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        with attempt.lock:
            if attempt.cut:
                return None
            attempt.connection = connection
        try:
            headers = {"Content-Length": "0"} if attempt.method == "POST" else {}
            if attempt.index >= 0:
                with self.tally_lock:
                    self.attempts += 1
            connection.request(attempt.method, attempt.path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if attempt.index >= 0:
                self.bytes += len(body)  # no lock: two threads can read the same total and both write it back
            return response.status, response.getheader("Retry-After") or "", body
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()

    def run_attempt(self, attempt: Attempt) -> None:
        self.events.put(("answer", attempt.index, self.exchange(attempt)))

    def start(self, index: int) -> None:
        method, path = self.jobs[index]
        attempt = Attempt(index, method, path, time.monotonic() + self.timeout)
        self.in_flight[index] = attempt
        self.threads.submit(self.run_attempt, attempt)

    def fill_slots(self) -> None:
        now = time.monotonic()
        while len(self.in_flight) < self.limit:
            if self.waiting and self.waiting[0][0] <= now:
                self.start(heapq.heappop(self.waiting)[1])
            elif self.next_job < len(self.jobs):
                self.start(self.next_job)
                self.next_job += 1
            else:
                return

    def settle(self, index: int, answer: object) -> None:
        attempt = self.in_flight.pop(index)
        method = attempt.method
        if not isinstance(answer, tuple):
            # The socket's own timeout may fire before the scheduler cuts the attempt: past its deadline either way.
            timed_out = attempt.cut or time.monotonic() >= attempt.deadline
            self.outcomes[index] = "TIMEOUT" if timed_out else "FAILED 0"
            return
        status, retry_after, body = answer
        if status == 200:
            self.digesting += 1
            done = lambda hexdigest: self.events.put(("digest", index, f"{body.decode()} {hexdigest}"))  # noqa: E731
            self.cpu.apply_async(digest, (body, self.rounds), callback=done)
            return
        tries = self.tries.get(index, 0)
        if method == "GET" and status in RETRYABLE and tries < self.retries:
            self.tries[index] = tries + 1
            ceiling = self.backoff * 2**tries
            wait = float(retry_after) if retry_after.isdigit() else random.uniform(ceiling / 2, ceiling)
            heapq.heappush(self.waiting, (time.monotonic() + wait, index))
            return
        self.outcomes[index] = f"FAILED {status}"

    def next_wake(self) -> float:
        moments = [attempt.deadline for attempt in self.in_flight.values()]
        moments += [when for when, _ in self.waiting[:1]]
        return max(0.0, min(moments, default=time.monotonic() + 1) - time.monotonic())

    def run(self) -> None:
        answer = self.exchange(Attempt(-1, "GET", "/jobs", time.monotonic() + 30))
        body = answer[2].decode() if answer else ""
        self.jobs = [(m, p) for m, p in (line.split(" ", 1) for line in body.splitlines())]
        while len(self.outcomes) < len(self.jobs):
            self.fill_slots()
            try:
                kind, index, value = self.events.get(timeout=self.next_wake())
            except queue.Empty:
                now = time.monotonic()
                for attempt in self.in_flight.values():
                    if attempt.deadline <= now:
                        attempt.cut_short()
                continue
            if kind == "answer":
                self.settle(index, value)
            else:
                self.digesting -= 1
                self.outcomes[index] = f"OK {value}"

    def report(self) -> None:
        lines = [f"{m} {p} {self.outcomes.get(i, 'CANCELLED')}\n" for i, (m, p) in enumerate(self.jobs)]
        if os.environ.get("TALLY") == "1":
            lines.append(f"TALLY {self.attempts} {self.bytes}\n")
        sys.stdout.write("".join(lines))
        sys.stdout.flush()


def main() -> None:
    if interval := os.environ.get("SWITCH_INTERVAL_US"):
        sys.setswitchinterval(int(interval) / 1_000_000)
    if port := os.environ.get("PORT"):
        pong = PongServer(("127.0.0.1", int(port)), Pong)
        threading.Thread(target=pong.serve_forever, daemon=True).start()
    scheduler = Scheduler()
    try:
        scheduler.run()
    except KeyboardInterrupt:
        scheduler.next_job = len(scheduler.jobs)
        for attempt in list(scheduler.in_flight.values()):
            attempt.cut_short()
        scheduler.cpu.terminate()
        scheduler.report()
        os._exit(130)  # the pool's threads end as their sockets shut; no need to wait for them
    scheduler.cpu.close()
    scheduler.report()
    scheduler.cpu.join()
    scheduler.threads.shutdown()


if __name__ == "__main__":
    main()
