"""The grader's TLS client (Python's ssl module): sessions with the learner's service, and refusal probes.

A refusal is only believed after a read. In TLS 1.3 the client's side of the handshake ends before the server
has judged the client's certificate, so ``attempt`` always sends ``PING`` and reads: a reply line means the
client was let in, an alert, a reset or the end of the stream means it was refused.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import tempfile
import time
from dataclasses import dataclass

from cryptography import x509

from labkit.checks import fail, log
from labkit.ports import LOOPBACK
from pki import Leaf

MAX_REPLY = 1024
SILENCE_S = 3.0  # how long a connection may stay open without a reply before it counts as not refused
REPLY_HINT = "answer every request with one line ending in \\n, and keep the connection open"


def client_context(
    ca_pem: bytes,
    identity: Leaf | None,
    *,
    version: ssl.TLSVersion | None = None,
    check_hostname: bool = True,
) -> ssl.SSLContext:
    """Trusts ``ca_pem`` alone and presents ``identity`` (leaf and chain) when given."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=ca_pem.decode())
    context.check_hostname = check_hostname
    if version is not None:
        context.minimum_version = context.maximum_version = version
    if identity is not None:
        _load_identity(context, identity)
    return context


class Session:
    """An established TLS connection to the learner's service; every line sent and read goes to the transcript."""

    def __init__(self, sock: ssl.SSLSocket, label: str) -> None:
        self.sock = sock
        self.label = label
        self.buffer = b""

    @property
    def serial(self) -> int:
        der = self.sock.getpeercert(binary_form=True)
        assert der is not None, "a completed handshake has the server's certificate"
        return x509.load_der_x509_certificate(der).serial_number

    @property
    def version(self) -> str:
        return self.sock.version() or "?"

    def send_or_raise(self, data: bytes) -> None:
        """Sends ``data``; an OSError (the server closed or reset the connection first) is the caller's to judge."""
        log(f"{self.label} → {data!r}")
        self.sock.sendall(data)

    def send(self, data: bytes, *, hint: str = REPLY_HINT) -> None:
        """Sends ``data``; fails the check if the server had already closed or reset the connection."""
        try:
            self.send_or_raise(data)
        except OSError as error:
            fail(
                f"{self.label} could not send {data[:40]!r}: the connection was closed ({_reason(error)})",
                expected="an open connection",
                got=_reason(error),
                hint=hint,
            )

    def request(self, line: str, *, timeout: float = 5.0, hint: str = REPLY_HINT) -> str:
        """Sends ``line`` and returns the reply line without its LF; fails the check if none comes."""
        self.send(line.encode() + b"\n", hint=hint)
        return self.reply(f"the reply to {line[:60]!r}", timeout=timeout, hint=hint)

    def reply(self, what: str, *, timeout: float = 5.0, hint: str = REPLY_HINT) -> str:
        line = self.read_line(timeout)
        if isinstance(line, Ended):
            fail(
                f"{self.label} got no reply line: {line.how}",
                expected=what,
                got=f"{self.buffer!r} then {line.how}" if self.buffer else line.how,
                hint=hint,
            )
        return line

    def read_line(self, timeout: float) -> str | Ended:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or len(self.buffer) > MAX_REPLY:
                return Ended(f"no complete line within {timeout:g} s", silent=True)
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(MAX_REPLY)
            except TimeoutError:
                continue
            except ssl.SSLError as error:
                return Ended(f"the TLS alert {_reason(error)}")
            except OSError as error:
                return Ended(f"the connection failed: {error.strerror or error}")
            if not chunk:
                return Ended("the connection was closed")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        text = line.decode("utf-8", "replace")
        log(f"{self.label} ← {text!r}")
        return text

    def is_closed_by_peer(self, within: float) -> bool:
        """True when the server closes the connection (or fails it) within ``within`` seconds, sending nothing."""
        line = self.read_line(within)
        return isinstance(line, Ended) and not line.silent

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@dataclass(frozen=True)
class Ended:
    """Why no line came: the stream ended, failed, or stayed ``silent`` past the deadline."""

    how: str
    silent: bool = False


@dataclass(frozen=True)
class Handshake:
    """The result of a handshake: a session, or why there is none."""

    session: Session | None
    error: str = ""
    verify_error: bool = False  # the grader could not verify the learner's certificate
    connected: bool = True  # False: not even a TCP connection

    def expect_connected(self, label: str) -> None:
        if not self.connected:
            fail(f"{label} {self.error}", hint="is your server still running and accepting? See its stderr below")


def handshake(port: int, context: ssl.SSLContext, server_name: str | None, label: str) -> Handshake:
    """Connects to the learner's service and completes the TLS handshake, or says why it did not."""
    try:
        raw = socket.create_connection((LOOPBACK, port), timeout=5.0)
    except OSError as error:
        log(f"{label}: could not connect to {LOOPBACK}:{port}: {error.strerror or error}")
        return Handshake(None, f"could not connect to {LOOPBACK}:{port}: {error.strerror or error}", connected=False)
    named = f" with server name {server_name}" if server_name else " with no server name"
    try:
        sock = context.wrap_socket(raw, server_hostname=server_name)
    except ssl.SSLCertVerificationError as error:
        raw.close()
        log(f"{label}: handshake{named}: certificate verification failed: {error.verify_message}")
        return Handshake(None, f"certificate verification failed: {error.verify_message}", verify_error=True)
    except ssl.SSLError as error:
        raw.close()
        log(f"{label}: handshake{named} failed: {_reason(error)}")
        return Handshake(None, f"the handshake failed with {_reason(error)}")
    except OSError as error:
        raw.close()
        log(f"{label}: handshake{named} failed: {error.strerror or error}")
        return Handshake(None, f"the connection failed during the handshake: {error.strerror or error}")
    cipher = sock.cipher()
    log(f"{label}: handshake{named} done ({sock.version()}, {cipher[0] if cipher else '?'})")
    return Handshake(Session(sock, label))


@dataclass(frozen=True)
class Attempt:
    """What a client got: ``let_in`` with the reply to PING, or refused, and how."""

    let_in: bool
    how: str


def attempt(port: int, context: ssl.SSLContext, server_name: str | None, label: str) -> Attempt:
    """A handshake, then PING and a read: the only honest way to learn whether a client was let in."""
    shake = handshake(port, context, server_name, label)
    shake.expect_connected(label)
    if shake.session is None:
        if shake.verify_error:
            fail(
                f"{label} could not verify your server's certificate, so it could not tell whether you refuse it",
                got=shake.error,
                hint="serve TLS_CERT followed by TLS_CHAIN for TLS_NAME, as in the handshake stage",
            )
        return Attempt(False, f"refused during the handshake: {shake.error}")
    session = shake.session
    try:
        try:
            session.send_or_raise(b"PING\n")
        except OSError as error:
            return Attempt(False, f"refused after the handshake: {_reason(error)}")
        line = session.read_line(SILENCE_S)
    finally:
        session.close()
    if isinstance(line, Ended):
        if line.silent:
            return Attempt(True, f"the handshake completed and the connection stayed open: {line.how}")
        return Attempt(False, f"refused after the handshake: {line.how}")
    return Attempt(True, f"the handshake completed and PING got {line!r}")


def _load_identity(context: ssl.SSLContext, identity: Leaf) -> None:
    # load_cert_chain reads files only.
    with tempfile.NamedTemporaryFile(suffix=".pem") as bundle:
        bundle.write(identity.bundle_pem())
        bundle.flush()
        context.load_cert_chain(bundle.name)


def _reason(error: OSError) -> str:
    if isinstance(error, ssl.SSLError) and error.reason:
        return error.reason
    return str(error.strerror or error)
