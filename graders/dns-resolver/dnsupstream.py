"""The grader's root, TLD and authoritative servers: one UDP and one TCP socket per loopback address, one port.

They answer from ``World`` as real authoritative servers do (referrals with in-zone glue only, CNAMEs never
chased, NXDOMAIN and NODATA with the SOA, TC over UDP past 512 bytes, EDNS ignored), misbehave where the world
says so, and log every query the resolver sends, for the checks that count them.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dnsmislead import FORGED_ADDRESS, MISLEADING, mislead, poison
from dnsworld import World, Zone
from labkit.ports import free_port

UDP_LIMIT = 512
SLOW_S = 0.5
TCP_IDLE_S = 5.0
MAX_TCP_CONNECTIONS = 64
BIND_ATTEMPTS = 20


@dataclass(frozen=True)
class Query:
    """One query the resolver sent upstream, as the server saw it."""

    server: str
    transport: str  # "udp" or "tcp"
    qname: str  # lower case, fully qualified
    qtype: str
    rd: bool
    at: float  # time.monotonic() on arrival

    def __str__(self) -> str:
        return f"{self.transport} {self.server}: {self.qname} {self.qtype}{' RD=1' if self.rd else ''}"


class QueryLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queries: list[Query] = []

    def add(self, query: Query) -> None:
        with self._lock:
            self._queries.append(query)

    def snapshot(self) -> list[Query]:
        with self._lock:
            return list(self._queries)

    def since(self, mark: int) -> list[Query]:
        with self._lock:
            return self._queries[mark:]

    def mark(self) -> int:
        with self._lock:
            return len(self._queries)


def referral_or_answer(world: World, address: str, query: dns.message.Message) -> dns.message.Message:
    """The authoritative reply of the server at ``address`` to a well-formed one-question query."""
    response = dns.message.make_response(query)
    response.use_edns(False)  # the grader's servers ignore EDNS
    question = query.question[0]
    qname, rdtype = question.name, question.rdtype
    behaviour = world.behaviour[address]
    if question.rdclass != dns.rdataclass.IN:  # every zone is of class IN, as a real server's are
        response.set_rcode(dns.rcode.REFUSED)
        return response
    if behaviour in ("refused", "servfail"):
        response.set_rcode(dns.rcode.REFUSED if behaviour == "refused" else dns.rcode.SERVFAIL)
        return response
    zones = [world.zones[origin] for origin in world.serving[address] if qname.is_subdomain(origin)]
    if not zones:
        response.set_rcode(dns.rcode.REFUSED)
        return response
    zone = max(zones, key=lambda candidate: len(candidate.origin))
    if behaviour == "lame":  # refers back up to the TLD, as a misconfigured server does
        root = world.zones[dns.name.root]
        _refer(response, root, root.cut_above(zone.origin) or dns.name.root)
        return response
    if behaviour == "sideways":  # refers to its own zone, as a server that lost its zone's data does
        _refer(response, zone, zone.origin)
        return response
    if behaviour in MISLEADING:
        mislead(response, world, behaviour, zone, qname)
        return response
    _authoritative(response, zone, qname, rdtype)
    if behaviour == "poison":
        poison(response, world)
    return response


def _authoritative(response: dns.message.Message, zone: Zone, qname: dns.name.Name, rdtype: int) -> None:
    """A referral to the child zone holding ``qname``, else the answer, NXDOMAIN or NODATA from ``zone``."""
    cut = zone.cut_above(qname)
    if cut is not None:
        _refer(response, zone, cut)
        return
    response.flags |= dns.flags.AA
    found = zone.records.get((qname, dns.rdatatype.CNAME))
    if found is None or rdtype == dns.rdatatype.CNAME:
        found = zone.records.get((qname, rdtype))
    if found is not None:
        response.answer.append(dns.rrset.from_rdata_list(qname, found.ttl, list(found)))
        return
    if not zone.has_name(qname):
        response.set_rcode(dns.rcode.NXDOMAIN)
    response.authority.append(zone.soa)


def _refer(response: dns.message.Message, zone: Zone, cut: dns.name.Name) -> None:
    ns = zone.records[(cut, dns.rdatatype.NS)]
    response.authority.append(ns)
    for rdata in ns:
        target: dns.name.Name = rdata.target
        glue = zone.records.get((target, dns.rdatatype.A))
        if glue is not None and target.is_subdomain(cut):
            response.additional.append(glue)


def render(response: dns.message.Message, limit: int) -> bytes:
    """``response`` on the wire; past ``limit`` bytes, a TC=1 reply with the question only."""
    try:
        return response.to_wire(max_size=limit, want_shuffle=False)  # NS order is the order to try servers
    except dns.exception.TooBig:
        response.answer, response.authority, response.additional = [], [], []
        response.flags |= dns.flags.TC
        return response.to_wire()


@dataclass(frozen=True)
class Outgoing:
    wire: bytes
    spoofed_source: bool = False  # sent from another server's address


def forgeries(response: dns.message.Message) -> list[Outgoing]:
    """Replies with a wrong address that a resolver must ignore: from another address with the right ID, from
    the right address with a wrong ID, with the right ID for another question, one with QR = 0 (not a reply, and
    RCODE 1) that is otherwise right, and the first 11 bytes of one (no message at all)."""

    def fake(ident: int, qname: dns.name.Name, *, reply: bool = True) -> bytes:
        message = dns.message.Message(id=ident)
        message.flags = response.flags if reply else (response.flags & ~dns.flags.QR) | dns.rcode.FORMERR
        message.question.append(dns.rrset.RRset(qname, dns.rdataclass.IN, response.question[0].rdtype))
        message.answer.append(dns.rrset.from_text(qname, 3600, "IN", "A", FORGED_ADDRESS))
        return message.to_wire()

    asked = response.question[0].name
    return [
        Outgoing(fake(response.id, asked), spoofed_source=True),
        Outgoing(fake(response.id ^ 0x5A5A, asked)),
        Outgoing(fake(response.id, dns.name.from_text("forged", asked.parent()))),
        Outgoing(fake(response.id, asked, reply=False)),
        Outgoing(fake(response.id, asked)[:11]),
    ]


class Upstream:
    """Every server of ``world`` on one port, answering from a background thread until ``close()``."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.log = QueryLog()
        self._selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._delayed: list[tuple[float, int, socket.socket, bytes, tuple[str, int]]] = []
        self._order = itertools.count()
        self._connections = threading.BoundedSemaphore(MAX_TCP_CONNECTIONS)
        self._sockets: list[socket.socket] = []
        self.port = self._bind_all()
        self._thread = threading.Thread(target=self._serve, name="dns-upstream", daemon=True)
        self._thread.start()

    def _bind_all(self) -> int:
        for _ in range(BIND_ATTEMPTS):
            port = free_port()
            try:
                for address in self.world.serving:
                    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    self._sockets.append(udp)
                    udp.bind((address, port))
                    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    self._sockets.append(tcp)
                    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    tcp.bind((address, port))
                    tcp.listen(16)
            except OSError:
                self._close_sockets()
                continue
            for sock in self._sockets:
                sock.setblocking(False)
                self._selector.register(sock, selectors.EVENT_READ)
            return port
        raise RuntimeError(f"no port was free on all {len(self.world.serving)} upstream addresses")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._selector.close()
        self._close_sockets()

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets = []

    def _serve(self) -> None:
        while not self._stop.is_set():
            wait = 0.05
            if self._delayed:
                wait = max(0.0, min(wait, self._delayed[0][0] - time.monotonic()))
            for key, _ in self._selector.select(wait):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                if sock.type == socket.SOCK_DGRAM:
                    self._on_datagram(sock)
                else:
                    self._on_connection(sock)
            while self._delayed and self._delayed[0][0] <= time.monotonic():
                _, _, sock, wire, peer = heapq.heappop(self._delayed)
                self._send(sock, wire, peer)

    def _send(self, sock: socket.socket, wire: bytes, peer: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):  # the resolver's socket is gone: nothing to tell it
            sock.sendto(wire, peer)

    def _on_datagram(self, sock: socket.socket) -> None:
        try:
            data, peer = sock.recvfrom(65535)
        except OSError:
            return
        address = sock.getsockname()[0]
        due = time.monotonic() + (SLOW_S if self.world.behaviour[address] == "slow" else 0.0)
        for reply in self._replies(address, data, "udp"):
            source = self._other_udp(sock) if reply.spoofed_source else sock
            heapq.heappush(self._delayed, (due, next(self._order), source, reply.wire, peer))

    def _other_udp(self, sock: socket.socket) -> socket.socket:
        return next(other for other in self._sockets if other.type == socket.SOCK_DGRAM and other is not sock)

    def _replies(self, address: str, data: bytes, transport: str) -> list[Outgoing]:
        """What the server at ``address`` sends back for ``data``: nothing, one reply, or a forgery first."""
        try:
            query = dns.message.from_wire(data)
        except Exception:  # dnspython raises many kinds for a malformed message; a server stays silent
            return []
        if query.flags & dns.flags.QR or len(query.question) != 1:
            return []
        question = query.question[0]
        self.log.add(
            Query(
                address,
                transport,
                question.name.to_text().lower(),
                dns.rdatatype.to_text(question.rdtype),
                bool(query.flags & dns.flags.RD),
                time.monotonic(),
            )
        )
        behaviour = self.world.behaviour[address]
        if behaviour == "silent":
            return []
        response = referral_or_answer(self.world, address, query)
        wire = Outgoing(render(response, UDP_LIMIT if transport == "udp" else 65535))
        if behaviour == "forge" and transport == "udp":
            return [*forgeries(response), wire]
        return [wire]

    def _on_connection(self, listener: socket.socket) -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        if not self._connections.acquire(blocking=False):
            connection.close()
            return
        address = listener.getsockname()[0]
        threading.Thread(target=self._serve_tcp, args=(connection, address), daemon=True).start()

    def _serve_tcp(self, connection: socket.socket, address: str) -> None:
        try:
            with connection:
                connection.setblocking(True)
                connection.settimeout(TCP_IDLE_S)
                while not self._stop.is_set():
                    header = _recv_exact(connection, 2)
                    data = _recv_exact(connection, struct.unpack(">H", header)[0]) if header else b""
                    if not data:
                        return
                    replies = self._replies(address, data, "tcp")
                    if not replies:
                        continue
                    if self.world.behaviour[address] == "slow":
                        self._stop.wait(SLOW_S)
                    for reply in replies:
                        connection.sendall(struct.pack(">H", len(reply.wire)) + reply.wire)
        except OSError:
            pass  # the resolver closed or reset the connection
        finally:
            self._connections.release()


def _recv_exact(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            return b""
        data += chunk
    return data
