"""The grader's HTTP upstream: serves a job list and answers each job as its ``Reply`` says, while recording what a
reviewer would want to know: every attempt's arrival, when its answer was written or its connection closed, and
the highest number of attempts in flight at once.

HTTP/1.1 is parsed by h11, one thread per connection; keep-alive connections are served request after request.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import h11

from jobs import Job, Reply

JOBS_PATH = "/jobs"
READ_CHUNK = 65536
IDLE_POLL_S = 0.05  # how often a held connection looks for its client's close and for shutdown
SHUTDOWN_POLL_S = 0.01  # how often the accept loop looks for shutdown: every check's close waits up to this long
BACKLOG = 128  # connections waiting to be accepted: a refused SYN is sent again only after a second
HOLD_MAX_S = 3.0  # a held answer is released after this even if other jobs never start (a client in batches)


@dataclass
class Attempt:
    """One request of a job, as the upstream saw it (times from ``time.monotonic``)."""

    method: str
    path: str
    number: int  # 0 for a job's first attempt
    arrived: float
    answered: float | None = None  # the whole answer written
    closed: float | None = None  # the connection closed before an answer (by the client, or by a hang-up)
    status: int | None = None
    burst: int = 0  # the burst it belongs to (see Burst)


@dataclass
class Record:
    attempts: list[Attempt] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # requests for paths that are not jobs
    malformed: list[str] = field(default_factory=list)
    unframed_posts: list[str] = field(default_factory=list)  # POSTs without Content-Length: 0, as they came
    in_flight: int = 0
    peak: int = 0
    jobs_fetched: int = 0
    last_arrival: float = 0.0


@dataclass
class Gate:
    """Holds every answer until the client has shown how many attempts it keeps in flight: the gate opens when
    more than ``limit`` are in flight at once, once ``limit`` are and no attempt has arrived for ``quiet`` seconds,
    or, for a client that never reaches ``limit``, after ``quiet_below`` seconds without an arrival. A client that
    keeps ``limit`` in flight shows exactly that peak however busy the machine, and one that sends more at once
    shows more."""

    limit: int
    quiet: float
    quiet_below: float
    open: bool = False

    def opens(self, in_flight: int, idle: float) -> bool:
        return in_flight > self.limit or idle >= (self.quiet if in_flight == self.limit else self.quiet_below)


@dataclass
class Burst:
    """Holds answers until ``limit`` attempts are in flight, then releases them all at once, again and again: the
    client's workers then get their answers together and update its shared state at the same time, where an
    unguarded update loses another's. A burst that does not fill (the end of the list, retries waiting out their
    backoff) is released once no attempt has arrived for ``quiet`` seconds, and none is held longer than
    ``longest``."""

    limit: int
    quiet: float
    longest: float
    number: int = 0  # the burst now filling; every attempt of an earlier one is released
    released: threading.Condition = field(default_factory=threading.Condition)

    def holds(self, attempt: Attempt, idle: float, now: float) -> bool:
        return attempt.burst == self.number and idle < self.quiet and now - attempt.arrived < self.longest

    def arrived(self, attempt: Attempt, in_flight: int) -> None:
        attempt.burst = self.number
        if in_flight >= self.limit:
            with self.released:
                self.number += 1
                self.released.notify_all()

    def wait(self, attempt: Attempt, timeout: float) -> bool:
        """Waits up to ``timeout`` for ``attempt``'s burst to fill; False, at once, if ``attempt`` is in no burst
        now filling. (The check and the wait share the lock that ``arrived`` releases under: no release is missed.)"""
        with self.released:
            if attempt.burst != self.number:
                return False
            self.released.wait(timeout)
            return True


class Upstream(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = BACKLOG  # socketserver's 5 would make a burst of LIMIT connects wait that second

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.jobs: dict[str, Job] = {}
        self.order: list[Job] = []
        self.record = Record()
        self.connections: set[socket.socket] = set()
        self.before_jobs: Callable[[], object] = lambda: None  # e.g. wait for the heartbeat's first pong
        self.gate: Gate | None = None
        self.burst: Burst | None = None
        self.thread = threading.Thread(target=self.serve_forever, args=(SHUTDOWN_POLL_S,), name="upstream", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def load(self, jobs: Sequence[Job], gate: Gate | None = None, burst: Burst | None = None) -> None:
        """Serves ``jobs`` from now on, with a fresh record, its answers held by ``gate`` until it opens and in
        bursts by ``burst``."""
        with self.lock:
            self.order = list(jobs)
            self.jobs = {job.path: job for job in jobs}
            self.record = Record()
            self.gate = gate
            self.burst = burst

    def attempts_of(self, path: str) -> list[Attempt]:
        with self.lock:
            return [attempt for attempt in self.record.attempts if attempt.path == path]

    def snapshot(self) -> Record:
        with self.lock:
            record = self.record
            return Record(
                list(record.attempts),
                list(record.unknown),
                list(record.malformed),
                list(record.unframed_posts),
                record.in_flight,
                record.peak,
                record.jobs_fetched,
                record.last_arrival,
            )

    def start(self) -> Upstream:
        self.thread.start()
        return self

    def close(self) -> None:
        self.stopping.set()
        self.shutdown()
        with self.lock:
            for connection in self.connections:
                connection.close()
        self.server_close()
        self.thread.join(timeout=5)

    # What the handler threads call.

    def begin(self, method: str, path: str) -> tuple[Attempt, Reply] | None:
        with self.lock:
            job = self.jobs.get(path)
            if job is None or job.method != method:
                self.record.unknown.append(f"{method} {path}")
                return None
            number = sum(1 for seen in self.record.attempts if seen.path == path)
            attempt = Attempt(method, path, number, time.monotonic())
            self.record.attempts.append(attempt)
            self.record.in_flight += 1
            self.record.peak = max(self.record.peak, self.record.in_flight)
            self.record.last_arrival = attempt.arrived
            if self.burst is not None:
                self.burst.arrived(attempt, self.record.in_flight)
            return attempt, job.reply(number)

    def may_answer(self, attempt: Attempt, reply: Reply) -> bool:
        """Whether the gate and a held reply let ``attempt`` be answered now (its delay aside)."""
        with self.lock:
            now, gate = time.monotonic(), self.gate
            if gate is not None and not gate.open:
                gate.open = gate.opens(self.record.in_flight, now - self.record.last_arrival)
                if not gate.open:
                    return False
            if self.burst is not None and self.burst.holds(attempt, now - self.record.last_arrival, now):
                return False
            if not reply.held or now - attempt.arrived >= HOLD_MAX_S:
                return True
            started = {seen.path for seen in self.record.attempts}
            return all(path in started for path in self.jobs)

    def end(self, attempt: Attempt, *, answered: bool) -> None:
        with self.lock:
            now = time.monotonic()
            if answered:
                attempt.answered = now
            else:
                attempt.closed = now
            self.record.in_flight -= 1

    def note_framing(self, line: str, content_length: bytes | None) -> None:
        """Records a POST that does not say ``Content-Length: 0`` (README: a POST carries it, and no body)."""
        if content_length != b"0":
            length = "no Content-Length" if content_length is None else f"Content-Length: {content_length.decode()}"
            with self.lock:
                self.record.unframed_posts.append(f"{line} with {length}")

    def job_list(self) -> bytes:
        self.before_jobs()
        with self.lock:
            self.record.jobs_fetched += 1
            return "".join(f"{job.line}\n" for job in self.order).encode()


class _Handler(socketserver.BaseRequestHandler):
    server: Upstream

    def handle(self) -> None:
        connection: socket.socket = self.request
        with self.server.lock:
            self.server.connections.add(connection)
        try:
            self.serve(connection, h11.Connection(h11.SERVER))
        except (OSError, h11.ProtocolError):
            pass
        finally:
            with self.server.lock:
                self.server.connections.discard(connection)
            connection.close()

    def serve(self, connection: socket.socket, http: h11.Connection) -> None:
        while not self.server.stopping.is_set():
            request = self.read_request(connection, http)
            if request is None:
                return
            method, target = request.method.decode(), request.target.decode()
            if method == "POST":
                self.server.note_framing(f"{method} {target}", dict(request.headers).get(b"content-length"))
            if method == "GET" and target == JOBS_PATH:
                self.answer(connection, http, Reply(200, self.server.job_list().decode()))
            elif (begun := self.server.begin(method, target)) is None:
                self.answer(connection, http, Reply(404, "no such job"))
            else:
                attempt, reply = begun
                if not self.answer_job(connection, http, attempt, reply):
                    return
            if http.our_state is h11.MUST_CLOSE or http.their_state is h11.MUST_CLOSE:
                return
            try:
                http.start_next_cycle()
            except h11.LocalProtocolError:
                return

    def read_request(self, connection: socket.socket, http: h11.Connection) -> h11.Request | None:
        request: h11.Request | None = None
        while True:
            try:
                event = http.next_event()
            except h11.RemoteProtocolError as error:
                with self.server.lock:
                    self.server.record.malformed.append(str(error))
                self.answer(connection, http, Reply(400, "malformed request"))
                return None
            if event is h11.NEED_DATA:
                data = self.receive(connection)
                if data is None:
                    return None
                http.receive_data(data)
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.EndOfMessage):
                return request
            elif isinstance(event, h11.ConnectionClosed):
                return None

    def receive(self, connection: socket.socket) -> bytes | None:
        """The next bytes of the client, ``b""`` when it closed, None when the upstream stops."""
        connection.settimeout(IDLE_POLL_S)
        while not self.server.stopping.is_set():
            try:
                return connection.recv(READ_CHUNK)
            except TimeoutError:
                continue
        return None

    def answer_job(self, connection: socket.socket, http: h11.Connection, attempt: Attempt, reply: Reply) -> bool:
        """Waits the reply's delay (or forever, for a black hole) watching for the client's close; True once the
        whole answer is written, False when the connection ends without one (the client closed it, or the reply hangs
        up). The attempt ends (``Upstream.end``) as the answer starts to leave: the client cannot read it, and start
        its next job, any sooner, so a fast client never shows one attempt too many."""
        attempt.status = None if reply.blackhole or reply.hang_up else reply.status
        deadline = None if reply.blackhole else time.monotonic() + reply.delay
        while deadline is None or not self.server.may_answer(attempt, reply) or deadline > time.monotonic():
            if self.server.stopping.is_set():
                self.server.end(attempt, answered=False)
                return False
            left = IDLE_POLL_S if deadline is None else deadline - time.monotonic()
            wait = min(IDLE_POLL_S, left) if left > 0 else IDLE_POLL_S
            if (burst := self.server.burst) is not None and burst.wait(attempt, wait):
                wait = 0.0  # woken with the whole burst, so that the answers leave together: a look for a close
            connection.settimeout(wait)
            try:
                if connection.recv(1, socket.MSG_PEEK) == b"":
                    self.server.end(attempt, answered=False)
                    return False  # the client closed its side: it gave up on this attempt
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:
                self.server.end(attempt, answered=False)
                return False
            time.sleep(wait)
        if reply.hang_up:
            self.server.end(attempt, answered=False)
            if reply.hang_up == "reset":  # closed with a zero linger time, the socket sends an RST, not a FIN
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False  # the handler closes the connection
        self.server.end(attempt, answered=True)
        try:
            self.answer(connection, http, reply)
        except OSError:
            return False
        return True

    def answer(self, connection: socket.socket, http: h11.Connection, reply: Reply) -> None:
        body = reply.body.encode()
        headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        if reply.retry_after is not None:
            headers.append(("Retry-After", str(reply.retry_after)))
        reason = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}.get(reply.status, b"Status")
        data = http.send(h11.Response(status_code=reply.status, headers=headers, reason=reason)) or b""
        data += (http.send(h11.Data(data=body)) or b"") + (http.send(h11.EndOfMessage()) or b"")
        connection.sendall(data)
