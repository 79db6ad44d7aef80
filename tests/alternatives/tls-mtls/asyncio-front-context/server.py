"""tls-mtls alternative: one asyncio event loop, and a listener whose TLS context never changes.

The listener's "front" context holds what a connection keeps from the context it was made with (the version
floor, the client-certificate requirement, the CRL-checking flag); its SNI callback hands every handshake, with
a server name or without, to a context of the current generation, whose certificate and trust store (with the
CRLs) then apply. A SIGHUP swaps one reference and never touches the listener. Lines are read with the stream's
own limit, CRLs are checked along the whole chain, and CALL is an asyncio client with a deadline.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import ssl
import sys
import tempfile

HOST = "127.0.0.1"
MAX_LINE = 256
CALL_DEADLINE_S = 5.0
ROLE_OF_COMMAND = {"GET": ("reader", "writer"), "PUT": ("writer",), "CALL": ("operator",)}
SHAPES = {
    "PING": (),
    "WHOAMI": (),
    "GET": (r"[A-Za-z0-9._-]{1,32}",),
    "PUT": (r"[A-Za-z0-9._-]{1,32}", r"[!-~]{1,200}"),
    "CALL": (r"[A-Za-z0-9.-]{1,253}", r"[1-9][0-9]{0,4}"),
}


def read(variable: str) -> bytes:
    with open(os.environ[variable], "rb") as file:
        return file.read()


def load_identity(context: ssl.SSLContext, cert: str, key: str) -> None:
    with tempfile.NamedTemporaryFile(suffix=".pem") as chain:
        chain.write(read(cert) + b"\n" + read("TLS_CHAIN"))
        chain.flush()
        context.load_cert_chain(chain.name, os.environ[key])


def verifying(context: ssl.SSLContext) -> ssl.SSLContext:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=read("TLS_CA").decode())
    return context


def generation() -> dict[str, ssl.SSLContext]:
    """The contexts for both names, built from the files as they are now; raises if any of them fails."""
    contexts = {}
    for name, cert, key in (("TLS_NAME", "TLS_CERT", "TLS_KEY"), ("TLS_ALT_NAME", "TLS_ALT_CERT", "TLS_ALT_KEY")):
        context = verifying(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
        context.load_verify_locations(cafile=os.environ["TLS_CRL"])
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
        load_identity(context, cert, key)
        contexts[os.environ[name].lower()] = context
    return contexts


class Service:
    def __init__(self) -> None:
        self.current = generation()
        self.front = verifying(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
        self.front.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
        load_identity(self.front, "TLS_CERT", "TLS_KEY")
        self.front.sni_callback = self.route
        # Given a cafile, create_default_context loads that alone, not the system store.
        self.outbound = ssl.create_default_context(cafile=os.environ["TLS_CA"])
        self.outbound.minimum_version = ssl.TLSVersion.TLSv1_2
        load_identity(self.outbound, "TLS_CLIENT_CERT", "TLS_CLIENT_KEY")
        self.roles = {}
        for line in read("ROLES_FILE").decode().splitlines():
            if line and not line.startswith("#"):
                identity, role = line.split(" ")
                self.roles[identity.lower()] = role
        self.store: dict[str, str] = {}

    def route(self, conn: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> int | None:
        wanted = (name or os.environ["TLS_NAME"]).lower()
        if wanted not in self.current:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        conn.context = self.current[wanted]
        return None

    def reload(self) -> None:
        try:
            self.current = generation()
        except Exception as error:  # any failure keeps the previous generation
            print(f"reload refused, still serving the previous certificates: {error!r}", file=sys.stderr)

    async def serve(self) -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.reload)
        server = await asyncio.start_server(
            self.connection, HOST, int(os.environ["PORT"]), ssl=self.front, limit=MAX_LINE - 1
        )
        async with server:
            await server.serve_forever()

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        cert = writer.get_extra_info("peercert") or {}
        identity = next((value for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"), "-")
        role = self.roles.get(identity.lower(), "none")
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.LimitOverrunError:
                    writer.write(b"400 request longer than 256 bytes\n")
                    await writer.drain()
                    return
                except asyncio.IncompleteReadError:
                    return
                writer.write((await self.answer(line[:-1], identity, role)).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def answer(self, line: bytes, identity: str, role: str) -> str:
        words = line.decode("latin-1").split(" ")
        shape = SHAPES.get(words[0])
        if shape is None or len(words) - 1 != len(shape):
            return "400 unknown command or wrong arguments"
        if not all(re.fullmatch(pattern, word) for pattern, word in zip(shape, words[1:], strict=True)):
            return "400 invalid argument"
        match words:
            case ["CALL", _, port] if int(port) > 65535:
                return "400 port out of range"
            case [command, *_] if role not in ROLE_OF_COMMAND.get(command, (role,)):
                return "403 forbidden"
            case ["PING"]:
                return "200 PONG"
            case ["WHOAMI"]:
                return f"200 {identity} {role}"
            case ["GET", key]:
                return f"200 {self.store[key]}" if key in self.store else "404 not found"
            case ["PUT", key, value]:
                self.store[key] = value
                return "200 stored"
            case ["CALL", name, port]:
                return await self.call(name, int(port))
        return "400 unreachable"

    async def call(self, name: str, port: int) -> str:
        try:
            async with asyncio.timeout(CALL_DEADLINE_S):
                reader, writer = await asyncio.open_connection(HOST, port, ssl=self.outbound, server_hostname=name)
                try:
                    writer.write(b"PING\n")
                    reply = await reader.readline()
                finally:
                    writer.close()
        except (OSError, ssl.SSLError, TimeoutError) as error:
            return f"502 upstream failed: {type(error).__name__}"
        if not reply.endswith(b"\n"):
            return "502 the upstream sent no reply line"
        return reply[:-1].decode("latin-1")


if __name__ == "__main__":
    asyncio.run(Service().serve())
