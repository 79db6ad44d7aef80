"""The grader's stub client: raw queries over UDP and TCP, every reply parsed strictly by dnspython.

dnspython's ``from_wire`` refuses counts that do not match the sections, trailing bytes and forward pointers,
so a reply that parses is well-formed; the checks then compare its fields and records with the world.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype

from labkit.checks import fail, log
from labkit.ports import LOOPBACK
from labkit.render import hex_bytes

REPLY_S = 8.0  # generous: every query must be answered within 5 s


@dataclass(frozen=True)
class Reply:
    wire: bytes
    message: dns.message.Message

    @property
    def rcode(self) -> dns.rcode.Rcode:
        return self.message.rcode()

    def flag(self, flag: int) -> bool:
        return bool(self.message.flags & flag)


def query_wire(name: str, rdtype: str | int, *, ident: int, rd: bool = True, payload: int | None = None) -> bytes:
    query = dns.message.make_query(
        name, dns.rdatatype.RdataType.make(rdtype), use_edns=payload is not None, payload=payload or 512
    )
    query.id = ident
    if not rd:
        query.flags &= ~dns.flags.RD
    return query.to_wire()


def strict(wire: bytes, what: str) -> Reply:
    try:
        message = dns.message.from_wire(wire)
    except (dns.exception.DNSException, ValueError) as error:
        fail(
            f"the reply to {what} is not a well-formed DNS message: {type(error).__name__}: {error}",
            got=f"{len(wire)} bytes: {hex_bytes(wire, 96)}",
            hint="each count must equal the records in its section, nothing may follow the last record, "
            "and every compression pointer must point backward",
        )
    return Reply(wire, message)


class Stub:
    """Queries the learner's resolver at ``127.0.0.1:port``."""

    def __init__(self, port: int) -> None:
        self.port = port

    def exchange_udp(self, wire: bytes, what: str, *, within: float = REPLY_S) -> bytes:
        with self.send_udp(wire, what) as sock:
            return self.receive_udp(sock, what, within=within)

    def send_udp(self, wire: bytes, what: str) -> socket.socket:
        """A socket that has sent ``wire``: read its reply with ``receive_udp``, then close it."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect((LOOPBACK, self.port))
        log(f"stub → udp {len(wire)} bytes ({what}): {hex_bytes(wire, 64)}")
        sock.send(wire)
        return sock

    def receive_udp(self, sock: socket.socket, what: str, *, within: float = REPLY_S) -> bytes:
        data = _recv_udp(sock, within)
        if data is None:
            fail(
                f"no reply to {what} within {within:g} s",
                hint="every query gets a reply within 5 s: an answer, FORMERR, NOTIMP or SERVFAIL",
            )
        log(f"stub ← udp {len(data)} bytes: {hex_bytes(data, 64)}")
        return data

    def answered_udp(self, messages: dict[str, bytes], *, window: float = 0.6) -> list[str]:
        """Sends every message from its own socket at once; returns those answered within ``window``, for
        messages the spec says to drop (one shared window: a reply would come at once)."""
        socks: dict[str, socket.socket] = {}
        try:
            for what, wire in messages.items():
                sock = socks[what] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.connect((LOOPBACK, self.port))
                log(f"stub → udp {len(wire)} bytes ({what}): {hex_bytes(wire, 64)}")
                sock.send(wire)
            answered: list[str] = []
            deadline = time.monotonic() + window
            while (left := deadline - time.monotonic()) > 0 and len(answered) < len(socks):
                waiting = [sock for what, sock in socks.items() if what not in answered]
                ready, _, _ = select.select(waiting, [], [], left)
                answered += [what for what, sock in socks.items() if sock in ready]
            return answered
        finally:
            for sock in socks.values():
                sock.close()

    def exchange_tcp(self, wires: list[bytes], what: str, *, within: float = REPLY_S) -> list[bytes]:
        """Sends every message on one connection, then reads as many replies."""
        try:
            sock = socket.create_connection((LOOPBACK, self.port), timeout=within)
        except OSError as error:
            fail(
                f"could not connect over TCP to {LOOPBACK}:{self.port}: {error.strerror or error}",
                hint="serve DNS over TCP on the same port as UDP: each message preceded by its 2-byte length",
            )
        replies: list[bytes] = []
        with sock:
            sock.settimeout(within)
            for wire in wires:
                log(f"stub → tcp {len(wire)} bytes ({what})")
                sock.sendall(struct.pack(">H", len(wire)) + wire)
            for n in range(len(wires)):
                try:
                    size = struct.unpack(">H", _recv_exact(sock, 2))[0]
                    replies.append(_recv_exact(sock, size))
                except (OSError, EOFError) as error:
                    fail(
                        f"reply {n + 1} of {len(wires)} to {what} over TCP did not come: {error or 'timed out'}",
                        hint="over TCP, read a 2-byte length then the message; answer each query, in order, and "
                        "keep the connection open until the client closes it",
                    )
                log(f"stub ← tcp {len(replies[-1])} bytes: {hex_bytes(replies[-1], 64)}")
        return replies

    def ask(
        self,
        name: str,
        rdtype: str | int = "A",
        *,
        ident: int = 0x1234,
        rd: bool = True,
        payload: int | None = None,
        tcp: bool = False,
    ) -> Reply:
        """A query for ``name``, its reply parsed strictly and checked for the header fields every reply has."""
        wire = query_wire(name, rdtype, ident=ident, rd=rd, payload=payload)
        what = f"{name} {dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))}"
        data = self.exchange_tcp([wire], what)[0] if tcp else self.exchange_udp(wire, what)
        reply = strict(data, what)
        expect_reply_header(reply, what, ident=ident, rd=rd, opcode=dns.opcode.QUERY)
        expect_question_copied(reply, wire, what)
        return reply


def expect_reply_header(reply: Reply, what: str, *, ident: int, rd: bool, opcode: int) -> None:
    message = reply.message
    checks = [
        ("ID", message.id, ident, "copy the query's ID (bytes 0-1) into the reply"),
        ("QR", reply.flag(dns.flags.QR), True, "set QR (the top bit of byte 2) in every reply"),
        ("OPCODE", message.opcode(), opcode, "copy the query's OPCODE"),
        ("RD", reply.flag(dns.flags.RD), rd, "copy the query's RD bit (the low bit of byte 2)"),
        ("RA", reply.flag(dns.flags.RA), True, "set RA (the top bit of byte 3): you offer recursion"),
        ("AA", reply.flag(dns.flags.AA), False, "AA stays 0: a resolver is not an authority"),
        ("Z", bool(message.flags & 0x0070), False, "the three Z bits of byte 3 stay 0"),
    ]
    for field, got, expected, hint in checks:
        if got != expected:
            fail(f"the reply to {what} has the wrong {field}", expected=str(expected), got=str(got), hint=hint)


def expect_question_copied(reply: Reply, query: bytes, what: str) -> None:
    """The reply's question section is the query's, byte for byte (letter case included)."""
    end = 12 + dns.name.from_wire(query, 12)[1] + 4
    if reply.wire[12:end] != query[12:end] or len(reply.message.question) != 1:
        fail(
            f"the reply to {what} does not copy the question byte for byte",
            expected=hex_bytes(query[12:end], 96),
            got=hex_bytes(reply.wire[12:end], 96),
            hint="write the question's name exactly as the query did, same letter case, then QTYPE and QCLASS",
        )


def _recv_udp(sock: socket.socket, within: float) -> bytes | None:
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return None
        try:
            return sock.recv(65535)
        except ConnectionRefusedError:
            return None
    return None


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("the connection was closed")
        data += chunk
    return data
