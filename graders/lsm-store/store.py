"""The learner's engine on one DATA_DIR, as the grader drives it: started, killed with SIGKILL, started again."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from labkit.checks import log
from labkit.learners import LearnerProcess
from labkit.tools.kvproto import KvClient
from labkit.tools.tcp import TcpClient

StartLearner = Callable[..., LearnerProcess]
CLIENT_TIMEOUT_S = 10.0  # generous: a flush or compaction may hold a reply on a loaded machine


class Store:
    """One DATA_DIR and the program currently running on it (at most one at a time)."""

    def __init__(self, start_learner: StartLearner, folder: Path, memtable_bytes: int) -> None:
        self.start_learner = start_learner
        self.folder = folder
        self.memtable_bytes = memtable_bytes
        self.process: LearnerProcess | None = None
        self.clients: list[TcpClient] = []
        self.starts = 0

    def start(self) -> KvClient:
        """Starts the program on the folder and returns a connected client."""
        self.starts += 1
        if self.starts > 1:
            log(f"grader: starting your server again on the same DATA_DIR (start {self.starts})")
        env = {"DATA_DIR": str(self.folder), "MEMTABLE_BYTES": str(self.memtable_bytes)}
        self.process = self.start_learner(env=env, writable=[self.folder])
        return self.connect()

    @property
    def port(self) -> int:
        assert self.process is not None, "start() the store first"
        assert self.process.port is not None, "a server lab's program has a port"
        return self.process.port

    def connect(self, label: str = "client") -> KvClient:
        tcp = TcpClient.connect(self.port, label=label, timeout=CLIENT_TIMEOUT_S)
        self.clients.append(tcp)
        return KvClient(tcp)

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()

    def kill(self) -> None:
        """SIGKILL, as a crash: no handler of the program runs."""
        self.close()
        if self.process is not None:
            self.process.stop()
            log(f"grader: killed your server with SIGKILL (exit status {self.process.exit_code()})")

    def restart(self) -> KvClient:
        self.kill()
        return self.start()

    def stderr_since_start(self) -> str:
        """Everything the current program wrote on stderr (up to its tail)."""
        assert self.process is not None, "start() the store first"
        return self.process.stderr_tail()

    def bytes_on_disk(self) -> int:
        """The size of the regular files under DATA_DIR, as the grader measures it."""
        total = 0
        for root, _, files in os.walk(self.folder):
            for name in files:
                try:
                    total += os.lstat(os.path.join(root, name)).st_size
                except FileNotFoundError:
                    continue
        return total
