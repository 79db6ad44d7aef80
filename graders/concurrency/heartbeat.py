"""The grader's side of the heartbeat: connects to the learner's ``PORT`` as soon as it listens, then sends
``ping`` every 50 ms and times each ``pong``, until the program closes the connection or the grader stops."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

PING_EVERY_S = 0.05
NO_ANSWER_S = 3.0  # a ping unanswered this long is recorded as such; the program is surely stuck
CONNECT_WITHIN_S = 5.0


@dataclass
class Beats:
    latencies: list[float] = field(default_factory=list)  # seconds from ping to pong, in order
    first_pong: threading.Event = field(default_factory=threading.Event)
    unanswered: int = 0  # pings that waited NO_ANSWER_S in vain
    wrong: list[bytes] = field(default_factory=list)  # lines that were not "pong"
    connected: bool = False


class Pinger:
    def __init__(self, port: int) -> None:
        self.port = port
        self.beats = Beats()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="heartbeat", daemon=True)

    def __enter__(self) -> Pinger:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=NO_ANSWER_S + 2)

    def run(self) -> None:
        connection = self.connect()
        if connection is None:
            return
        self.beats.connected = True
        with connection, connection.makefile("rb") as lines:
            connection.settimeout(NO_ANSWER_S)
            while not self.stop.is_set():
                sent = time.monotonic()
                try:
                    connection.sendall(b"ping\n")
                    line = lines.readline()
                except TimeoutError:
                    self.beats.unanswered += 1
                    return
                except OSError:
                    return
                if not line:
                    return  # the program closed the connection: it is exiting
                if line != b"pong\n":
                    self.beats.wrong.append(line)
                    return
                self.beats.latencies.append(time.monotonic() - sent)
                self.beats.first_pong.set()
                self.stop.wait(PING_EVERY_S)

    def connect(self) -> socket.socket | None:
        deadline = time.monotonic() + CONNECT_WITHIN_S
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                return socket.create_connection(("127.0.0.1", self.port), timeout=1.0)
            except OSError:
                self.stop.wait(0.02)
        return None
