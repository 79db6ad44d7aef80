"""Readiness for a service that requires client certificates: the lab's ``tls`` strategy, presenting the
grader's probe certificate of the program's own files."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from labkit.learners import LearnerProcess
from labkit.readiness import TlsReady
from service_files import PROBE_FILE


@dataclass(frozen=True)
class MutualTlsReady(TlsReady):
    """A handshake completes while presenting a valid client certificate (with its chain), so that a server
    which allows TLS 1.2 only is judged by the versions stage, not refused as never ready. The certificate is
    the probe file next to the program's ``TLS_CA``: each program has files of its own."""

    def wait(self, process: LearnerProcess, timeout: float) -> None:
        env = process.spec.extra_env or {}
        probe = Path(env["TLS_CA"]).parent / PROBE_FILE
        TlsReady.wait(dataclasses.replace(self, client_cert=probe), process, timeout)
