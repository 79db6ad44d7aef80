"""Readiness strategies: when a learner's program is ready for its first check, and why it is not.

A lab chooses one in lab.toml (``ready = "http"`` with ``ready_path = "/healthz"``, say); a grader may pass
another to a fixture. Each strategy is a frozen configuration with one probe. :meth:`Readiness.wait` polls that
probe until a deadline, reports a program that exits first exactly as the supervisor always has, and otherwise
explains what the last probe saw: nothing on the port at all, a listener on another port, or a port that
answered but not as the strategy expects.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import psutil

from labkit.errors import CheckFailed, LabConfigError
from labkit.ports import LOOPBACK, is_accepting

if TYPE_CHECKING:
    from labkit.supervisor import LearnerProcess

POLL_INTERVAL_S = 0.01
ATTEMPT_S = 1.0  # the longest one probe waits for an answer; a probe never waits past the deadline
MIN_ATTEMPT_S = 0.05  # ... except this much, so that a probe begun just before the deadline can still succeed
HTTP_HEAD_LIMIT = 512
STATUS_LINE = re.compile(rb"^HTTP/\d(?:\.\d)? \d{3}(?:[ \r\n]|$)")


@dataclass(frozen=True)
class Miss:
    """One probe that did not find the program ready: what it saw, and whether the port itself answered
    (a TCP connection was accepted, or a datagram was not refused)."""

    seen: str
    port_open: bool


@dataclass(frozen=True)
class Readiness:
    """Base of the strategies. Subclasses set ``name`` and ``options`` (their lab.toml keys) and implement
    :meth:`probe`, :meth:`unready` and, when they take options, :meth:`parse_options`."""

    name: ClassVar[str]
    options: ClassVar[tuple[str, ...]] = ()
    transport: ClassVar[str] = "tcp"

    def wait(self, process: LearnerProcess, timeout: float) -> None:
        """Returns once the program is ready; raises ``CheckFailed`` with a diagnosis otherwise."""
        port = _port_of(process, self.name)
        # Not wait.until: each probe gets what is left of the deadline, and the last miss is the diagnosis.
        deadline = time.monotonic() + timeout
        last = Miss("nothing was tried: the deadline had already passed", port_open=False)
        while time.monotonic() < deadline:
            if (code := process.exit_code()) is not None:
                raise process._exited_early(code)
            miss = self.probe(port, max(MIN_ATTEMPT_S, min(ATTEMPT_S, deadline - time.monotonic())))
            if miss is None:
                return
            last = miss
            time.sleep(POLL_INTERVAL_S)
        if (code := process.exit_code()) is not None:  # it died while the last probe waited: that is the story
            raise process._exited_early(code)
        if not last.port_open:
            raise closed_port(process, port, timeout, self.transport)
        raise self.unready(port, timeout, last)

    def probe(self, port: int, timeout: float) -> Miss | None:
        """One attempt: ``None`` when the program is ready."""
        raise NotImplementedError

    def unready(self, port: int, timeout: float, last: Miss) -> CheckFailed:
        """The diagnosis when the port answered but the program never became ready."""
        return CheckFailed(
            f'your program did not become ready (ready = "{self.name}") on {LOOPBACK}:{port} within {timeout:g} s',
            got=last.seen,
        )

    @classmethod
    def parse_options(cls, options: Mapping[str, Any], folder: Path) -> dict[str, Any]:
        """Dataclass fields from this strategy's lab.toml options; ``ValueError`` says what is wrong."""
        return {}

    def check_complete(self) -> None:
        """Raises ``ValueError`` when a required option is missing (after run.toml's merge with lab.toml)."""


@dataclass(frozen=True)
class TcpReady(Readiness):
    """A TCP connection to ``127.0.0.1:$PORT`` is accepted."""

    name: ClassVar[str] = "tcp"

    def probe(self, port: int, timeout: float) -> Miss | None:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=min(timeout, 0.2)):
                return None
        except OSError as error:
            return Miss(_said(error), port_open=False)


@dataclass(frozen=True)
class UdpReady(Readiness):
    """A probe datagram sent to ``127.0.0.1:$PORT`` gets any reply."""

    name: ClassVar[str] = "udp"
    options: ClassVar[tuple[str, ...]] = ("ready_probe", "ready_probe_hex")
    transport: ClassVar[str] = "udp"
    probe_datagram: bytes = b""

    @classmethod
    def parse_options(cls, options: Mapping[str, Any], folder: Path) -> dict[str, Any]:
        if "ready_probe" in options and "ready_probe_hex" in options:
            raise ValueError("give ready_probe (text, sent as UTF-8) or ready_probe_hex (bytes), not both")
        if "ready_probe" in options:
            return {"probe_datagram": _text(options, "ready_probe").encode()}
        if "ready_probe_hex" in options:
            try:
                return {"probe_datagram": bytes.fromhex(_text(options, "ready_probe_hex"))}
            except ValueError:
                raise ValueError('ready_probe_hex must be hexadecimal digits, e.g. "00ff 10"') from None
        return {}

    def check_complete(self) -> None:
        if not self.probe_datagram:
            raise ValueError('ready = "udp" needs the datagram to send: ready_probe = "..." or ready_probe_hex')

    def probe(self, port: int, timeout: float) -> Miss | None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect((LOOPBACK, port))
                sock.send(self.probe_datagram)
                sock.recv(65535)
            except ConnectionRefusedError:  # ICMP port unreachable: no socket is bound there
                return Miss("nothing is bound to the port", port_open=False)
            except TimeoutError:
                return Miss(f"no reply within {timeout:.2g} s", port_open=True)
            except OSError as error:
                return Miss(_said(error), port_open=False)
        return None

    def unready(self, port: int, timeout: float, last: Miss) -> CheckFailed:
        return CheckFailed(
            f"your program has a UDP socket on {LOOPBACK}:{port} but did not answer the grader's probe "
            f"datagram within {timeout:g} s",
            expected=f"any datagram in reply to {self.probe_datagram!r}",
            got=last.seen,
            hint="reply from the same socket to the address each datagram came from (recvfrom, then sendto); "
            "the README says what the probe is",
        )


@dataclass(frozen=True)
class HttpReady(Readiness):
    """``GET <path>`` on ``127.0.0.1:$PORT`` gets an HTTP status line back (any status)."""

    name: ClassVar[str] = "http"
    options: ClassVar[tuple[str, ...]] = ("ready_path",)
    path: str = "/"

    @classmethod
    def parse_options(cls, options: Mapping[str, Any], folder: Path) -> dict[str, Any]:
        if "ready_path" not in options:
            return {}
        path = _text(options, "ready_path")
        if not path.startswith("/") or any(c.isspace() for c in path):
            raise ValueError(f"ready_path must start with '/' and hold no spaces, got {path!r}")
        return {"path": path}

    def probe(self, port: int, timeout: float) -> Miss | None:
        request = f"GET {self.path} HTTP/1.1\r\nHost: {LOOPBACK}:{port}\r\nConnection: close\r\n\r\n"
        try:
            conn = socket.create_connection((LOOPBACK, port), timeout=timeout)
        except OSError as error:
            return Miss(_said(error), port_open=False)
        head = b""
        deadline = time.monotonic() + timeout
        try:
            with conn:
                conn.sendall(request.encode())
                while b"\n" not in head and len(head) < HTTP_HEAD_LIMIT:
                    conn.settimeout(max(0.001, deadline - time.monotonic()))
                    chunk = conn.recv(HTTP_HEAD_LIMIT - len(head))
                    if not chunk:
                        break
                    head += chunk
        except OSError as error:
            return Miss(f"{_said(error)} after {len(head)} bytes of reply {head[:80]!r}", port_open=True)
        if STATUS_LINE.match(head):
            return None
        if not head:
            return Miss("the connection was closed without a reply", port_open=True)
        return Miss(f"the reply began {head[:80]!r}", port_open=True)

    def unready(self, port: int, timeout: float, last: Miss) -> CheckFailed:
        return CheckFailed(
            f"your program accepted connections on {LOOPBACK}:{port} but did not answer GET {self.path} with "
            f"an HTTP status line within {timeout:g} s",
            expected="a reply starting with a status line such as HTTP/1.1 200 OK (any status will do)",
            got=last.seen,
            hint="read the request head up to the empty line, then write the status line, headers and body",
        )


@dataclass(frozen=True)
class GrpcHealthReady(Readiness):
    """``grpc.health.v1.Health/Check`` for ``service`` ("" = the whole server) answers SERVING."""

    name: ClassVar[str] = "grpc-health"
    options: ClassVar[tuple[str, ...]] = ("ready_service",)
    service: str = ""

    @classmethod
    def parse_options(cls, options: Mapping[str, Any], folder: Path) -> dict[str, Any]:
        return {"service": _text(options, "ready_service")} if "ready_service" in options else {}

    def probe(self, port: int, timeout: float) -> Miss | None:
        import grpc  # imported here: loading the catalog must stay quick
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel(f"{LOOPBACK}:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=self.service), timeout=timeout)
            except grpc.RpcError as error:
                code = error.code()
                # UNAVAILABLE is also what a listener that does not speak HTTP/2 earns: ask TCP itself.
                port_open = code is not grpc.StatusCode.UNAVAILABLE or is_accepting(port, timeout=0.1)
                return Miss(f"{code.name}: {error.details()}", port_open=port_open)
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return None if status == "SERVING" else Miss(f"status {status}", port_open=True)

    def unready(self, port: int, timeout: float, last: Miss) -> CheckFailed:
        service = f"service {self.service!r}" if self.service else 'the server (service "")'
        hint = "set the status to SERVING once your services are registered and the server has started"
        if last.seen.startswith("UNIMPLEMENTED"):
            hint = "register the standard health service (grpc.health.v1.Health) on your server"
        return CheckFailed(
            f"your program's gRPC health check on {LOOPBACK}:{port} did not answer SERVING for {service} "
            f"within {timeout:g} s",
            expected="HealthCheckResponse(status=SERVING)",
            got=last.seen,
            hint=hint,
        )


@dataclass(frozen=True)
class TlsReady(Readiness):
    """A TLS handshake with ``127.0.0.1:$PORT`` completes. With ``ca`` the server's chain is verified against
    it (and its name, when ``server_name`` is set); without, nothing is verified."""

    name: ClassVar[str] = "tls"
    options: ClassVar[tuple[str, ...]] = ("ready_ca", "ready_server_name")
    ca: Path | None = None
    server_name: str | None = None
    client_cert: Path | None = None  # for a server that requires one (mutual TLS); set by a grader, per run
    client_key: Path | None = None

    @classmethod
    def parse_options(cls, options: Mapping[str, Any], folder: Path) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if "ready_ca" in options:
            ca = folder / _text(options, "ready_ca")
            if not ca.is_file():
                raise ValueError(f"ready_ca names {ca}, which is not a file (paths are relative to this file)")
            fields["ca"] = ca
        if "ready_server_name" in options:
            fields["server_name"] = _text(options, "ready_server_name")
        return fields

    def context(self) -> ssl.SSLContext:
        if self.ca is None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context = ssl.create_default_context(cafile=str(self.ca))
            context.check_hostname = self.server_name is not None
        if self.client_cert is not None:
            context.load_cert_chain(self.client_cert, self.client_key)
        return context

    def probe(self, port: int, timeout: float) -> Miss | None:
        try:
            conn = socket.create_connection((LOOPBACK, port), timeout=timeout)
        except OSError as error:
            return Miss(_said(error), port_open=False)
        try:
            with self.context().wrap_socket(conn, server_hostname=self.server_name):
                return None
        except ssl.SSLCertVerificationError as error:
            return Miss(f"certificate verification failed: {error.verify_message}", port_open=True)
        except ssl.SSLError as error:
            return Miss(f"TLS handshake failed: {error.reason or error}", port_open=True)
        except OSError as error:
            return Miss(f"during the TLS handshake: {_said(error)}", port_open=True)
        finally:
            conn.close()

    def unready(self, port: int, timeout: float, last: Miss) -> CheckFailed:
        against = f"a certificate chain that verifies against {self.ca.name}" if self.ca else "any certificate"
        return CheckFailed(
            f"your program accepted connections on {LOOPBACK}:{port} but no TLS handshake completed within "
            f"{timeout:g} s",
            expected=f"a TLS handshake presenting {against}",
            got=last.seen,
            hint="wrap every accepted connection in TLS with the certificate and key whose paths are in your "
            "environment, before reading from it",
        )


@dataclass(frozen=True)
class NoReadiness(Readiness):
    """Ready as soon as started: for programs that serve nothing the grader could probe."""

    name: ClassVar[str] = "none"

    def wait(self, process: LearnerProcess, timeout: float) -> None:
        if (code := process.exit_code()) is not None:
            raise process._exited_early(code)


STRATEGIES: dict[str, type[Readiness]] = {
    strategy.name: strategy for strategy in (TcpReady, UdpReady, HttpReady, GrpcHealthReady, TlsReady, NoReadiness)
}
OPTION_KEYS = frozenset(option for strategy in STRATEGIES.values() for option in strategy.options)


def parse_readiness(raw: Mapping[str, Any], where: str, folder: Path, base: Readiness | None = None) -> Readiness:
    """The strategy a ``[run]`` table (lab.toml) or run.toml selects. Options run.toml does not give are kept
    from ``base`` (lab.toml's) when both name the same strategy."""
    name = raw.get("ready", base.name if base else "tcp")
    if not isinstance(name, str) or name not in STRATEGIES:
        allowed = ", ".join(f'"{known}"' for known in sorted(STRATEGIES))
        raise LabConfigError(f"{where}: ready must be one of {allowed}; got {name!r}")
    strategy = STRATEGIES[name]
    given = {key: value for key, value in raw.items() if key.startswith("ready_") and key != "ready_timeout"}
    if unknown := sorted(set(given) - set(strategy.options)):
        takes = f"takes {', '.join(strategy.options)}" if strategy.options else "takes no options"
        raise LabConfigError(f'{where}: {", ".join(unknown)} is not an option of ready = "{name}", which {takes}')
    try:
        fields = strategy.parse_options(given, folder)
        ready = dataclasses.replace(base, **fields) if type(base) is strategy else strategy(**fields)
        ready.check_complete()
    except ValueError as error:
        raise LabConfigError(f"{where}: {error}") from None
    return ready


def closed_port(process: LearnerProcess, port: int, timeout: float, transport: str) -> CheckFailed:
    """Nothing answered on the port: name the port the program uses instead, if there is one."""
    elsewhere = _bound_ports(process, transport) - {port}
    if elsewhere:
        ports = ", ".join(str(p) for p in sorted(elsewhere))
        if transport == "tcp":
            return CheckFailed(
                f"your program is listening on port {ports}, but the grader asked for port {port}",
                expected=f"a listener on {LOOPBACK}:{port}",
                got=f"listener(s) on port {ports}",
                hint="read the port from the PORT environment variable instead of hard-coding it",
            )
        return CheckFailed(
            f"your program has a UDP socket on port {ports}, but the grader asked for port {port}",
            expected=f"a UDP socket bound to {LOOPBACK}:{port}",
            got=f"UDP socket(s) on port {ports}",
            hint="read the port from the PORT environment variable instead of hard-coding it",
        )
    if transport == "tcp":
        return CheckFailed(
            f"your program did not accept connections on {LOOPBACK}:{port} within {timeout:g} s",
            hint="bind to 127.0.0.1 and the port in $PORT, then call listen() before any slow start-up work",
        )
    return CheckFailed(
        f"your program did not bind a UDP socket to {LOOPBACK}:{port} within {timeout:g} s",
        hint="bind a datagram (SOCK_DGRAM) socket to 127.0.0.1 and the port in $PORT before any slow start-up work",
    )


def _bound_ports(process: LearnerProcess, transport: str) -> set[int]:
    if transport == "tcp":
        return process.listening_ports()
    ports: set[int] = set()
    try:
        processes = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.Error:
        return ports
    for each in processes:
        try:
            ports.update(c.laddr.port for c in each.net_connections(kind="udp") if c.laddr)
        except psutil.Error:
            continue
    return ports


def _port_of(process: LearnerProcess, strategy: str) -> int:
    if process.port is None:
        raise LabConfigError(f'ready = "{strategy}" needs a port, but this program was started without one')
    return process.port


def _text(options: Mapping[str, Any], key: str) -> str:
    value = options[key]
    if not isinstance(value, str):
        raise ValueError(f"{key!r} must be str, got {type(value).__name__}")
    return value


def _said(error: OSError) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return f"{type(error).__name__}: {error}"
