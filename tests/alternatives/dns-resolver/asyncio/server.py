"""dns-resolver, a second design: one asyncio event loop, no threads.

Unlike the reference solution, every query is a coroutine, upstream replies are matched to waiting futures,
the cache stores absolute deadlines, and replies compress every name, those inside record data included.
"""

import asyncio
import math
import os
import random
import socket
import struct
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"
UPSTREAM_WAIT_S = 1.0
CHAIN_LIMIT = 8
WALK_LIMIT = 20

T_A, T_NS, T_CNAME, T_SOA, T_MX, T_OPT = 1, 2, 5, 6, 15, 41
R_OK, R_FORMERR, R_SERVFAIL, R_NXDOMAIN, R_NOTIMP = 0, 1, 2, 3, 4


class Malformed(Exception):
    pass


class Unresolvable(Exception):
    pass


def fold(name):
    return name.lower()


# --- reading ---------------------------------------------------------------------------------------------------


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, size):
        if self.pos + size > len(self.data):
            raise Malformed("message ends early")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def name(self):
        """A name as a dotted, case-preserving string ("" is the root)."""
        parts, wire_len, pos, jumped_from, floor = [], 1, self.pos, None, self.pos
        while True:
            if pos >= len(self.data):
                raise Malformed("name ends early")
            length = self.data[pos]
            if length >= 0xC0:
                if pos + 1 >= len(self.data):
                    raise Malformed("pointer cut off")
                target = ((length & 0x3F) << 8) | self.data[pos + 1]
                if target >= floor:
                    raise Malformed("pointer not backward")
                jumped_from = pos + 2 if jumped_from is None else jumped_from
                pos = floor = target
                continue
            if length >= 0x40:
                raise Malformed("reserved label type")
            if length == 0:
                self.pos = jumped_from if jumped_from is not None else pos + 1
                return ".".join(parts)
            wire_len += length + 1
            if wire_len > 255 or pos + 1 + length > len(self.data):
                raise Malformed("name too long or cut off")
            parts.append(self.data[pos + 1 : pos + 1 + length].decode("latin-1"))
            pos += 1 + length


@dataclass
class RR:
    name: str
    rtype: int
    rclass: int
    ttl: int
    data: object  # bytes, a name (str), (preference, name) or (mname, rname, numbers)


def read_rr(reader):
    name = reader.name()
    rtype, rclass = reader.u16(), reader.u16()
    ttl = struct.unpack(">I", reader.take(4))[0]
    size = reader.u16()
    end = reader.pos + size
    if end > len(reader.data):
        raise Malformed("rdata cut off")
    if rtype in (T_NS, T_CNAME):
        data = reader.name()
    elif rtype == T_MX:
        data = (reader.u16(), reader.name())
    elif rtype == T_SOA:
        data = (reader.name(), reader.name(), reader.take(20))
    else:
        data = reader.take(size)
    reader.pos = end
    return RR(name, rtype, rclass, ttl, data)


@dataclass
class Message:
    ident: int
    flags: int
    questions: list = field(default_factory=list)
    sections: list = field(default_factory=lambda: [[], [], []])
    end: int = 0


def read_message(data):
    reader = Reader(data)
    ident, flags, qd, an, ns, ar = struct.unpack(">6H", reader.take(12))
    message = Message(ident, flags)
    for _ in range(qd):
        message.questions.append((reader.name(), reader.u16(), reader.u16()))
    for section, count in zip(message.sections, (an, ns, ar), strict=True):
        section.extend(read_rr(reader) for _ in range(count))
    message.end = reader.pos
    return message


# --- writing ---------------------------------------------------------------------------------------------------


class Builder:
    def __init__(self):
        self.buf = bytearray()
        self.seen = {}

    def name(self, name, compress=True):
        labels = name.split(".") if name else []
        for i in range(len(labels)):
            rest = fold(".".join(labels[i:]))
            if compress and rest in self.seen:
                self.buf += struct.pack(">H", 0xC000 | self.seen[rest])
                return
            if len(self.buf) < 0x4000:
                self.seen.setdefault(rest, len(self.buf))
            raw = labels[i].encode("latin-1")
            self.buf += bytes([len(raw)]) + raw
        self.buf += b"\0"

    def rr(self, rr, ttl):
        self.name(rr.name)
        self.buf += struct.pack(">HHI", rr.rtype, rr.rclass, ttl)
        length_at = len(self.buf)
        self.buf += b"\0\0"
        if rr.rtype in (T_NS, T_CNAME):
            self.name(rr.data)
        elif rr.rtype == T_MX:
            self.buf += struct.pack(">H", rr.data[0])
            self.name(rr.data[1])
        elif rr.rtype == T_SOA:
            self.name(rr.data[0])
            self.name(rr.data[1])
            self.buf += rr.data[2]
        else:
            self.buf += rr.data
        struct.pack_into(">H", self.buf, length_at, len(self.buf) - length_at - 2)


def build_reply(query, rcode, answer=(), authority=(), question=True, truncated=False):
    flags = 0x8000 | (query.flags & 0x7900) | 0x0080 | (0x0200 if truncated else 0) | rcode
    out = Builder()
    counts = (1 if question else 0, len(answer), len(authority), 0)
    out.buf += struct.pack(">6H", query.ident, flags, *counts)
    if question:
        qname, qtype, qclass = query.questions[0]
        out.name(qname, compress=False)
        out.buf += struct.pack(">HH", qtype, qclass)
    for rr, ttl in (*answer, *authority):
        out.rr(rr, ttl)
    return bytes(out.buf)


def header_only(data, rcode):
    ident, flags = struct.unpack_from(">HH", data)
    return struct.pack(">6H", ident, 0x8000 | (flags & 0x7900) | 0x0080 | rcode, 0, 0, 0, 0)


# --- the cache: absolute deadlines -----------------------------------------------------------------------------


class Cache:
    def __init__(self):
        self.rrsets = {}  # (folded name, type) -> (deadline, [RR])
        self.negatives = {}  # (folded name, type or "*") -> (deadline, rcode, soa RR)

    @staticmethod
    def remaining(deadline):
        return math.ceil(deadline - time.monotonic())  # = TTL - whole seconds elapsed

    def store(self, rrs):
        grouped = {}
        for rr in rrs:
            grouped.setdefault((fold(rr.name), rr.rtype), []).append(rr)
        now = time.monotonic()
        for cache_key, group in grouped.items():
            self.rrsets[cache_key] = (now + min(rr.ttl for rr in group), group)

    def store_negative(self, name, qtype, rcode, soa):
        minimum = struct.unpack(">I", soa.data[2][16:20])[0]
        which = "*" if rcode == R_NXDOMAIN else qtype
        self.negatives[(fold(name), which)] = (time.monotonic() + min(soa.ttl, minimum), rcode, soa)

    def rrset(self, name, rtype):
        entry = self.rrsets.get((fold(name), rtype))
        if entry is None:
            return None
        left = self.remaining(entry[0])
        if left <= 0:
            del self.rrsets[(fold(name), rtype)]
            return None
        return [(rr, left) for rr in entry[1]]

    def negative(self, name, qtype):
        for which in ("*", qtype):
            entry = self.negatives.get((fold(name), which))
            if entry is not None:
                left = self.remaining(entry[0])
                if left > 0:
                    return entry[1], entry[2], left
                del self.negatives[(fold(name), which)]
        return None


# --- upstream --------------------------------------------------------------------------------------------------


class OneShot(asyncio.DatagramProtocol):
    """A UDP socket for one upstream question; the future gets the first acceptable reply."""

    def __init__(self, accept):
        self.accept = accept
        self.reply = asyncio.get_running_loop().create_future()

    def datagram_received(self, data, addr):
        if not self.reply.done():
            message = self.accept(data)
            if message is not None:
                self.reply.set_result(message)

    def error_received(self, exc):
        pass  # an ICMP error: the timeout decides


def encode_query(ident, name, qtype):
    out = Builder()
    out.buf += struct.pack(">6H", ident, 0, 1, 0, 0, 0)
    out.name(name, compress=False)
    out.buf += struct.pack(">HH", qtype, 1)
    return bytes(out.buf)


class Resolver:
    def __init__(self, roots, port):
        self.roots, self.port, self.cache = roots, port, Cache()

    async def exchange(self, address, name, qtype):
        ident = random.getrandbits(16)
        wire = encode_query(ident, name, qtype)

        def accept(data):
            try:
                message = read_message(data)
            except Malformed:
                return None
            if message.ident != ident or not message.flags & 0x8000 or len(message.questions) != 1:
                return None
            q_name, q_type, _ = message.questions[0]
            return message if fold(q_name) == fold(name) and q_type == qtype else None

        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: OneShot(accept), remote_addr=(address, self.port)
        )
        try:
            transport.sendto(wire)
            message = await asyncio.wait_for(protocol.reply, UPSTREAM_WAIT_S)
        except TimeoutError:
            return None
        finally:
            transport.close()
        if message.flags & 0x0200:
            return await self.exchange_tcp(address, wire, accept)
        return message

    async def exchange_tcp(self, address, wire, accept):
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(address, self.port), UPSTREAM_WAIT_S)
        except (OSError, TimeoutError):
            return None
        try:
            writer.write(struct.pack(">H", len(wire)) + wire)
            size = struct.unpack(">H", await asyncio.wait_for(reader.readexactly(2), UPSTREAM_WAIT_S))[0]
            return accept(await asyncio.wait_for(reader.readexactly(size), UPSTREAM_WAIT_S))
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            return None
        finally:
            writer.close()

    async def answer(self, name, qtype, depth=0):
        """(rcode, answer [(RR, ttl)], authority [(RR, ttl)]); raises Unresolvable."""
        chain, visited = [], {fold(name)}
        while True:
            outcome = await self.one_name(name, qtype, depth)
            if outcome[0] == "records":
                return R_OK, chain + outcome[1], []
            if outcome[0] == "negative":
                _, rcode, soa, left = outcome
                return rcode, chain, [(soa, left)]
            chain.append(outcome[1])
            name = outcome[1][0].data
            if fold(name) in visited or len(chain) > CHAIN_LIMIT:
                raise Unresolvable("CNAME loop")
            visited.add(fold(name))

    def from_cache(self, name, qtype):
        records = self.cache.rrset(name, qtype)
        if records:
            return ("records", records)
        if qtype != T_CNAME:
            alias = self.cache.rrset(name, T_CNAME)
            if alias:
                return ("alias", alias[0])
        negative = self.cache.negative(name, qtype)
        if negative:
            return ("negative", *negative)
        return None

    async def one_name(self, name, qtype, depth):
        cached = self.from_cache(name, qtype)
        if cached is None:
            await self.walk(name, qtype, depth)
            cached = self.from_cache(name, qtype)
        if cached is None:
            raise Unresolvable("the walk cached nothing usable")
        return cached

    def known_zone(self, name):
        labels = name.split(".") if name else []
        for i in range(len(labels)):
            zone = ".".join(labels[i:])
            servers = self.cache.rrset(zone, T_NS)
            if servers:
                return zone, [rr.data for rr, _ in servers]
        return "", None

    async def walk(self, name, qtype, depth):
        zone, hosts = self.known_zone(name)
        for _ in range(WALK_LIMIT):
            moved = False
            for host in self.roots if hosts is None else hosts:
                address = host if hosts is None else await self.address(host, depth)
                if address is None:
                    continue
                message = await self.exchange(address, name, qtype)
                result = self.absorb(message, name, qtype, zone) if message is not None else None
                if result == "settled":
                    return
                if result is not None:
                    zone, hosts = result
                    moved = True
                    break
            if not moved:
                raise Unresolvable("no server of the zone answered")
        raise Unresolvable("too many referrals")

    def absorb(self, message, name, qtype, zone):
        rcode, authoritative = message.flags & 0xF, bool(message.flags & 0x0400)
        answer, authority, additional = message.sections
        if rcode not in (R_OK, R_NXDOMAIN):
            return None
        mine = [rr for rr in answer if fold(rr.name) == fold(name) and rr.rtype in (qtype, T_CNAME)]
        if authoritative and rcode == R_OK and mine:
            self.cache.store(mine)
            return "settled"
        if authoritative and (rcode == R_NXDOMAIN or not answer):
            soa = next((rr for rr in authority if rr.rtype == T_SOA), None)
            if soa is None:
                return None
            self.cache.store_negative(name, qtype, rcode, soa)
            return "settled"
        delegation = [rr for rr in authority if rr.rtype == T_NS]
        if authoritative or answer or rcode != R_OK or not delegation:
            return None
        child = fold(delegation[0].name)
        inside = fold(name) == child or fold(name).endswith("." + child) or child == ""
        deeper = len(child.split(".")) > len(zone.split(".")) if zone else child != ""
        if not (inside and deeper):
            return None
        delegation = [rr for rr in delegation if fold(rr.name) == child]
        hosts = {fold(rr.data) for rr in delegation}
        self.cache.store(delegation + [rr for rr in additional if rr.rtype == T_A and fold(rr.name) in hosts])
        return delegation[0].name, [rr.data for rr in delegation]

    async def address(self, host, depth):
        known = self.cache.rrset(host, T_A)
        if known:
            return socket.inet_ntoa(known[0][0].data)
        if depth >= 4:
            return None
        try:
            rcode, records, _ = await self.answer(host, T_A, depth + 1)
        except Unresolvable:
            return None
        addresses = [rr for rr, _ in records if rr.rtype == T_A]
        return socket.inet_ntoa(addresses[0].data) if rcode == R_OK and addresses else None


# --- serving ---------------------------------------------------------------------------------------------------


def well_formed(data):
    """The parsed query, or raises Malformed."""
    query = read_message(data)
    answer, authority, additional = query.sections
    if len(query.questions) != 1 or answer or authority or len(additional) > 1 or query.end != len(data):
        raise Malformed("not a single plain question")
    if additional and (additional[0].rtype != T_OPT or additional[0].name != ""):
        raise Malformed("an additional record that is not OPT")
    if query.questions[0][2] != 1:
        raise Malformed("class is not IN")
    return query


async def respond(resolver, data, udp):
    if len(data) < 12 or data[2] & 0x80:
        return None
    if (data[2] >> 3) & 0xF:
        return header_only(data, R_NOTIMP)
    try:
        query = well_formed(data)
    except Malformed:
        return header_only(data, R_FORMERR)
    qname, qtype, _ = query.questions[0]
    try:
        reply = build_reply(query, *await resolver.answer(qname, qtype))
    except Unresolvable:
        reply = build_reply(query, R_SERVFAIL)
    opt = query.sections[2]
    limit = max(512, opt[0].rclass) if opt else 512
    if udp and len(reply) > limit:
        reply = build_reply(query, R_OK, truncated=True)
    return reply


class ClientUdp(asyncio.DatagramProtocol):
    def __init__(self, resolver):
        self.resolver = resolver
        self.tasks = set()

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        task = asyncio.ensure_future(self.serve(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def serve(self, data, addr):
        reply = await respond(self.resolver, data, udp=True)
        if reply is not None:
            self.transport.sendto(reply, addr)


async def client_tcp(resolver, reader, writer):
    try:
        while True:
            size = struct.unpack(">H", await reader.readexactly(2))[0]
            reply = await respond(resolver, await reader.readexactly(size), udp=False)
            if reply is not None:
                writer.write(struct.pack(">H", len(reply)) + reply)
                await writer.drain()
    except (asyncio.IncompleteReadError, OSError):
        pass
    finally:
        writer.close()


async def main():
    port = int(os.environ["PORT"])
    roots = [part.strip() for part in os.environ["ROOT_SERVERS"].split(",") if part.strip()]
    resolver = Resolver(roots, int(os.environ["DNS_PORT"]))
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: ClientUdp(resolver), local_addr=(HOST, port))
    server = await asyncio.start_server(lambda r, w: client_tcp(resolver, r, w), HOST, port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
