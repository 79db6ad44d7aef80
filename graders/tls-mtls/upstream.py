"""A grader-run upstream for CALL: a TLS server (Python's ssl module) that requires a client certificate from the
run's root, answers ``PING`` with a line of its own (or with other bytes, or with nothing), and records every
visit: the server name the client sent, the certificate it presented and whether a request reached it."""

from __future__ import annotations

import contextlib
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass

from cryptography import x509

from labkit.ports import LOOPBACK
from pki import Leaf

ACCEPT_POLL_S = 0.1
VISIT_TIMEOUT_S = 5.0
LINGER_S = 20.0  # longer than any sensible CALL timeout: a client that waits for the close times out first


@dataclass(frozen=True)
class Visit:
    """One connection to the upstream: SNI, the client's certificate serial, and the request that got through."""

    server_name: str | None
    client_serial: int | None
    request: bytes
    error: str = ""


class Upstream:
    """Serves ``leaf`` (with its chain) on a loopback port until closed; one visit at a time.

    A request gets ``answer`` (``reply`` and an LF unless given), then the connection closes, or with ``linger``
    stays open until the client closes it (at most ``LINGER_S``, and no longer than the upstream), as a service of
    this lab's protocol does."""

    def __init__(
        self, leaf: Leaf, client_ca_pem: bytes, reply: str, *, answer: bytes | None = None, linger: bool = False
    ) -> None:
        self.reply = reply
        self._answer = reply.encode() + b"\n" if answer is None else answer
        self._linger = linger
        self.visits: list[Visit] = []
        self._server_name: str | None = None
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._context.verify_mode = ssl.CERT_REQUIRED
        self._context.load_verify_locations(cadata=client_ca_pem.decode())
        with tempfile.NamedTemporaryFile(suffix=".pem") as bundle:
            bundle.write(leaf.bundle_pem())
            bundle.flush()
            self._context.load_cert_chain(bundle.name)
        self._context.sni_callback = self._note_server_name
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(ACCEPT_POLL_S)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name=f"upstream:{self.port}", daemon=True)
        self._thread.start()

    def __enter__(self) -> Upstream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=VISIT_TIMEOUT_S + 2)
        self._listener.close()

    def recorded(self) -> list[Visit]:
        """The visits so far. A visit is recorded once its connection is over, after the reply was sent: read
        them after ``close()`` to be sure the last one is there."""
        with self._lock:
            return list(self.visits)

    def _note_server_name(self, sslobj: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        self._server_name = name

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                visit = self._visit(conn)
            with self._lock:
                self.visits.append(visit)

    def _visit(self, conn: socket.socket) -> Visit:
        self._server_name = None
        conn.settimeout(VISIT_TIMEOUT_S)
        try:
            tls = self._context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as error:
            return Visit(self._server_name, None, b"", f"handshake failed: {error}")
        with tls:
            der = tls.getpeercert(binary_form=True)
            serial = x509.load_der_x509_certificate(der).serial_number if der else None
            request = b""
            try:
                while b"\n" not in request and len(request) < 256:
                    chunk = tls.recv(256)
                    if not chunk:
                        break
                    request += chunk
                if request.endswith(b"\n"):
                    tls.sendall(self._answer)
                    if self._linger:
                        self._wait_for_close(tls)
            except (ssl.SSLError, OSError) as error:
                return Visit(self._server_name, serial, request, f"failed after the handshake: {error}")
            return Visit(self._server_name, serial, request)

    def _wait_for_close(self, tls: ssl.SSLSocket) -> None:
        """Until the client ends the stream or sends anything, at most LINGER_S, or until the upstream closes."""
        deadline = time.monotonic() + LINGER_S
        tls.settimeout(ACCEPT_POLL_S)
        while not self._stop.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                tls.recv(256)  # a reset or an alert raises on to _visit, which records it
                return
