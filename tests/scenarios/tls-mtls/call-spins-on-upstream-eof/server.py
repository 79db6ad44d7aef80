"""tls-mtls test scenario: reads an upstream's reply until an LF without stopping at the end of the stream, so an
upstream that closes with no line leaves the caller waiting forever.

Otherwise a copy of the reference solution.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
MAX_LINE = 256
CALL_TIMEOUT_S = 5.0
KEY = re.compile(r"[A-Za-z0-9._-]{1,32}")
VALUE = re.compile(r"[!-~]{1,200}")
NAME = re.compile(r"[A-Za-z0-9.-]{1,253}")
PORT_NUMBER = re.compile(r"[0-9]{1,5}")
ALLOWED = {"GET": {"reader", "writer"}, "PUT": {"writer"}, "CALL": {"operator"}}
ARGUMENTS = {"PING": 0, "WHOAMI": 0, "GET": 1, "PUT": 2, "CALL": 2}


class BadRequest(ValueError):
    pass


def env_path(name: str) -> Path:
    return Path(os.environ[name])


def bundle(*parts: str) -> str:
    """One file holding a leaf followed by the chain, as load_cert_chain wants it."""
    handle, path = tempfile.mkstemp(suffix=".pem")
    with os.fdopen(handle, "wb") as out:
        for part in parts:
            out.write(env_path(part).read_bytes())
    return path


def server_context(cert: str, key: str) -> ssl.SSLContext:
    """TLS 1.2+, a required client certificate from TLS_CA alone, checked against TLS_CRL."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=os.environ["TLS_CA"])
    context.load_verify_locations(cafile=os.environ["TLS_CRL"])
    context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    chain = bundle(cert, "TLS_CHAIN")
    try:
        context.load_cert_chain(chain, os.environ[key])
    finally:
        os.unlink(chain)
    return context


@dataclass(frozen=True)
class Contexts:
    main: ssl.SSLContext
    alt: ssl.SSLContext

    @classmethod
    def load(cls) -> Contexts:
        contexts = cls(server_context("TLS_CERT", "TLS_KEY"), server_context("TLS_ALT_CERT", "TLS_ALT_KEY"))
        contexts.main.sni_callback = contexts.pick
        return contexts

    def pick(self, conn: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> int | None:
        if name is None or name.lower() == os.environ["TLS_NAME"].lower():
            return None
        if name.lower() == os.environ["TLS_ALT_NAME"].lower():
            conn.context = self.alt
            return None
        return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME


def client_context() -> ssl.SSLContext:
    """For CALL: verify against TLS_CA alone, hostname included; present our own certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # check_hostname and CERT_REQUIRED are its defaults
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cafile=os.environ["TLS_CA"])
    chain = bundle("TLS_CLIENT_CERT", "TLS_CHAIN")
    try:
        context.load_cert_chain(chain, os.environ["TLS_CLIENT_KEY"])
    finally:
        os.unlink(chain)
    return context


def read_roles(path: Path) -> dict[str, str]:
    roles = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            identity, role = line.split()
            roles[identity.lower()] = role
    return roles


def identity_of(conn: ssl.SSLSocket) -> str:
    cert = conn.getpeercert() or {}
    names = [value for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"]
    return names[0] if names else "-"


def parse(line: bytes) -> list[str]:
    try:
        words = line.decode("ascii").split(" ")
    except UnicodeDecodeError:
        raise BadRequest("not ASCII") from None
    command, args = words[0], words[1:]
    if ARGUMENTS.get(command) != len(args):
        raise BadRequest("unknown command or wrong number of arguments")
    if command in ("GET", "PUT") and not KEY.fullmatch(args[0]):
        raise BadRequest("invalid key")
    if command == "PUT" and not VALUE.fullmatch(args[1]):
        raise BadRequest("invalid value")
    if command == "CALL" and not (NAME.fullmatch(args[0]) and PORT_NUMBER.fullmatch(args[1])):
        raise BadRequest("invalid name or port")
    if command == "CALL" and not 1 <= int(args[1]) <= 65535:
        raise BadRequest("port out of range")
    return words


class Service:
    def __init__(self) -> None:
        self.contexts = Contexts.load()
        self.outbound = client_context()
        self.roles = read_roles(env_path("ROLES_FILE"))
        self.store: dict[str, str] = {}
        self.lock = threading.Lock()

    def reload(self) -> None:
        try:
            self.contexts = Contexts.load()
        except (OSError, ssl.SSLError, ValueError) as error:
            print(f"reload failed, keeping the previous certificates: {error}", file=sys.stderr)
        else:
            print("reloaded certificates and CRL", file=sys.stderr)

    def serve(self, port: int) -> None:
        listener = socket.create_server((HOST, port))
        signal.signal(signal.SIGHUP, lambda *_: self.reload())
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=self.handle, args=(conn, self.contexts), daemon=True).start()

    def handle(self, raw: socket.socket, contexts: Contexts) -> None:
        try:
            with contexts.main.wrap_socket(raw, server_side=True) as conn:
                self.converse(conn, identity_of(conn))
        except (ssl.SSLError, OSError):
            pass  # a refused client or a dropped connection ends that connection only
        finally:
            raw.close()

    def converse(self, conn: ssl.SSLSocket, identity: str) -> None:
        role = self.roles.get(identity.lower(), "none")
        buffer = b""
        while True:
            while b"\n" not in buffer:
                if len(buffer) >= MAX_LINE:
                    conn.sendall(b"400 line too long\n")
                    return
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buffer += chunk
            line, _, buffer = buffer.partition(b"\n")
            if len(line) >= MAX_LINE:
                conn.sendall(b"400 line too long\n")
                return
            conn.sendall(self.answer(line, identity, role).encode() + b"\n")

    def answer(self, line: bytes, identity: str, role: str) -> str:
        try:
            command, *args = parse(line)
        except BadRequest as error:
            return f"400 {error}"
        if command in ALLOWED and role not in ALLOWED[command]:
            return "403 forbidden"
        if command == "PING":
            return "200 PONG"
        if command == "WHOAMI":
            return f"200 {identity} {role}"
        if command == "GET":
            with self.lock:
                value = self.store.get(args[0])
            return "404 not found" if value is None else f"200 {value}"
        if command == "PUT":
            with self.lock:
                self.store[args[0]] = args[1]
            return "200 stored"
        return self.call(args[0], int(args[1]))

    def call(self, name: str, port: int) -> str:
        try:
            with (
                socket.create_connection((HOST, port), timeout=CALL_TIMEOUT_S) as raw,
                self.outbound.wrap_socket(raw, server_hostname=name) as conn,
            ):
                conn.sendall(b"PING\n")
                reply = b""
                while b"\n" not in reply and len(reply) < MAX_LINE:
                    chunk = conn.recv(MAX_LINE)
                    reply += chunk
        except (ssl.SSLError, OSError) as error:
            return f"502 {type(error).__name__}: {str(error)[:120]}".replace("\n", " ")
        line, newline, _ = reply.partition(b"\n")
        if not newline:
            return "502 no reply line from the upstream"
        return line.decode("ascii", "replace")


def main() -> None:
    Service().serve(int(os.environ["PORT"]))


if __name__ == "__main__":
    main()
