"""dns-resolver reference solution: a recursive resolver with a TTL cache, one thread per client query.

Stdlib only. Parsing follows README.md's rules (label and name limits, backward-only pointers); resolution
walks down from the closest cached zone, chasing glueless name servers and CNAMEs; the cache counts TTLs down.
"""

import os
import random
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HOST = "127.0.0.1"
ATTEMPT_S = 1.0
MAX_CHAIN = 8
MAX_REFERRALS = 20
MAX_DEPTH = 4  # nested resolutions of glueless name server addresses
WORKERS = 32  # threads resolving UDP queries; each thread costs address space (README: resource limits)

A, NS, CNAME, SOA, MX, OPT = 1, 2, 5, 6, 15, 41
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP = 0, 1, 2, 3, 4
NAME_TYPES = {NS, CNAME}  # rdata is one name


class FormErr(Exception):
    pass


# --- wire format -------------------------------------------------------------------------------------------


def read_name(msg, offset):
    """(labels, offset after the name) with README's limits; raises FormErr."""
    labels, length, end, start = [], 1, None, offset
    while True:
        if offset >= len(msg):
            raise FormErr("name runs past the end")
        byte = msg[offset]
        kind = byte & 0xC0
        if kind == 0xC0:
            if offset + 1 >= len(msg):
                raise FormErr("truncated pointer")
            target = ((byte & 0x3F) << 8) | msg[offset + 1]
            if target >= start:
                raise FormErr("pointer does not go backward")
            if end is None:
                end = offset + 2
            offset = start = target
            continue
        if kind:
            raise FormErr("reserved label type")
        if byte == 0:
            return tuple(labels), (end if end is not None else offset + 1)
        label = msg[offset + 1 : offset + 1 + byte]
        if len(label) < byte:
            raise FormErr("label runs past the end")
        length += byte + 1
        if length > 255:
            raise FormErr("name over 255 bytes")
        labels.append(label)
        offset += 1 + byte


def encode_name(labels):
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\0"


def key(labels):
    return tuple(label.lower() for label in labels)


class Record:
    __slots__ = ("labels", "names", "rclass", "rdata", "rtype", "ttl")

    def __init__(self, labels, rtype, rclass, ttl, rdata, names=()):
        self.labels, self.rtype, self.rclass, self.ttl, self.rdata, self.names = (
            labels, rtype, rclass, ttl, rdata, names,
        )  # fmt: skip


def read_record(msg, offset):
    labels, offset = read_name(msg, offset)
    if offset + 10 > len(msg):
        raise FormErr("record header runs past the end")
    rtype, rclass, ttl, rdlength = struct.unpack_from(">HHIH", msg, offset)
    offset += 10
    end = offset + rdlength
    if end > len(msg):
        raise FormErr("rdata runs past the end")
    names = ()
    # Names inside rdata may be compressed: expand them, so the rdata stands alone.
    if rtype in NAME_TYPES:
        target, _ = read_name(msg, offset)
        names, rdata = (target,), encode_name(target)
    elif rtype == MX:
        target, _ = read_name(msg, offset + 2)
        names, rdata = (target,), msg[offset : offset + 2] + encode_name(target)
    elif rtype == SOA:
        mname, after = read_name(msg, offset)
        rname, after = read_name(msg, after)
        names, rdata = (mname, rname), encode_name(mname) + encode_name(rname) + msg[after : after + 20]
    else:
        rdata = msg[offset:end]
    return Record(labels, rtype, rclass, ttl, rdata, names), end


def parse(msg):
    """(id, flags, questions, answer, authority, additional); raises FormErr."""
    if len(msg) < 12:
        raise FormErr("short header")
    ident, flags, qd, an, ns, ar = struct.unpack_from(">HHHHHH", msg)
    offset, questions, sections = 12, [], []
    for _ in range(qd):
        labels, offset = read_name(msg, offset)
        if offset + 4 > len(msg):
            raise FormErr("question runs past the end")
        qtype, qclass = struct.unpack_from(">HH", msg, offset)
        questions.append((labels, qtype, qclass))
        offset += 4
    for count in (an, ns, ar):
        records = []
        for _ in range(count):
            record, offset = read_record(msg, offset)
            records.append(record)
        sections.append(records)
    return ident, flags, questions, sections[0], sections[1], sections[2], offset


class Writer:
    """Builds a message, compressing owner names against names already written."""

    def __init__(self):
        self.out = bytearray()
        self.offsets = {}

    def name(self, labels, compress=True):
        for i in range(len(labels)):
            suffix = key(labels[i:])
            if compress and suffix in self.offsets:
                self.out += struct.pack(">H", 0xC000 | self.offsets[suffix])
                return
            if len(self.out) < 0x3FFF:
                self.offsets.setdefault(suffix, len(self.out))
            self.out += bytes([len(labels[i])]) + labels[i]
        self.out += b"\0"

    def record(self, record, ttl):
        self.name(record.labels)
        self.out += struct.pack(">HHIH", record.rtype, record.rclass, ttl, len(record.rdata)) + record.rdata


def reply(ident, flags, question, rcode, answer=(), authority=()):
    """``answer`` and ``authority`` are (record, ttl) pairs."""
    opcode_rd = flags & 0x7900  # OPCODE and RD copied
    header_flags = 0x8000 | opcode_rd | 0x0080 | rcode  # QR, RA
    writer = Writer()
    writer.out += struct.pack(">HHHHHH", ident, header_flags, 1 if question else 0, len(answer), len(authority), 0)
    if question:
        labels, qtype, qclass = question
        writer.name(labels, compress=False)
        writer.out += struct.pack(">HH", qtype, qclass)
    for record, ttl in (*answer, *authority):
        writer.record(record, ttl)
    return bytes(writer.out)


def make_query(ident, labels, qtype):
    return struct.pack(">HHHHHH", ident, 0, 1, 0, 0, 0) + encode_name(labels) + struct.pack(">HH", qtype, 1)


# --- cache -------------------------------------------------------------------------------------------------


class Cache:
    def __init__(self):
        self.lock = threading.Lock()
        self.positive = {}  # (key, type) -> (received, ttl, [records])
        self.negative = {}  # (key, type or None) -> (received, ttl, rcode, soa)

    def put(self, records):
        groups = {}
        for record in records:
            groups.setdefault((key(record.labels), record.rtype), []).append(record)
        now = time.monotonic()
        with self.lock:
            for group_key, group in groups.items():
                self.positive[group_key] = (now, min(r.ttl for r in group), group)

    def put_negative(self, labels, qtype, rcode, soa):
        minimum = struct.unpack(">I", soa.rdata[-4:])[0]
        entry = (time.monotonic(), min(soa.ttl, minimum), rcode, soa)
        with self.lock:
            self.negative[(key(labels), None if rcode == NXDOMAIN else qtype)] = entry

    @staticmethod
    def left(received, ttl):
        return ttl - int(time.monotonic() - received)

    def get(self, labels, rtype):
        """[(record, ttl left)] or None."""
        with self.lock:
            entry = self.positive.get((key(labels), rtype))
            if entry is None:
                return None
            left = self.left(entry[0], entry[1])
            if left <= 0:
                del self.positive[(key(labels), rtype)]
                return None
            return [(record, left) for record in entry[2]]

    def get_negative(self, labels, qtype):
        """(rcode, soa, ttl left) or None."""
        with self.lock:
            for neg_key in ((key(labels), None), (key(labels), qtype)):
                entry = self.negative.get(neg_key)
                if entry is None:
                    continue
                left = self.left(entry[0], entry[1])
                if left <= 0:
                    del self.negative[neg_key]
                    continue
                return entry[2], entry[3], left
        return None


# --- resolution --------------------------------------------------------------------------------------------


class Failed(Exception):
    pass


class Resolver:
    def __init__(self, roots, port):
        self.roots, self.port = roots, port
        self.cache = Cache()

    def resolve(self, labels, qtype, depth=0):
        """(rcode, [(record, ttl)] answer, [(record, ttl)] authority); raises Failed."""
        chain, seen = [], {key(labels)}
        while True:
            kind, found = self.lookup(labels, qtype, depth)
            if kind == "answer":
                return NOERROR, chain + found, []
            if kind == "negative":
                rcode, soa, ttl = found
                return rcode, chain, [(soa, ttl)]
            record, ttl = found[0]
            chain.append((record, ttl))
            labels = record.names[0]
            if key(labels) in seen or len(chain) > MAX_CHAIN:
                raise Failed("CNAME loop or chain too long")
            seen.add(key(labels))

    def lookup(self, labels, qtype, depth):
        """One name: ("answer", records) | ("cname", [cname]) | ("negative", (rcode, soa, ttl))."""
        for _ in range(2):  # the second pass reads what iterate() just cached
            found = self.cache.get(labels, qtype)
            if found:
                return "answer", found
            if qtype != CNAME:
                found = self.cache.get(labels, CNAME)
                if found:
                    return "cname", found
            negative = self.cache.get_negative(labels, qtype)
            if negative:
                return "negative", negative
            self.iterate(labels, qtype, depth)
        raise Failed("nothing usable was cached")

    def closest_zone(self, labels):
        for i in range(len(labels) + 1):
            zone = labels[i:]
            ns = self.cache.get(zone, NS)
            if ns:
                return zone, [record.names[0] for record, _ in ns]
        return (), None

    def iterate(self, labels, qtype, depth):
        """Walks down until the authoritative answer for (labels, qtype) is in the cache."""
        zone, ns_names = self.closest_zone(labels)
        for _ in range(MAX_REFERRALS):
            servers = self.roots if ns_names is None else ns_names
            for server in servers:
                address = server if ns_names is None else self.address_of(server, depth)
                if address is None:
                    continue
                response = self.ask(address, labels, qtype)
                if response is None:
                    continue
                outcome = self.digest(response, labels, qtype, zone)
                if outcome == "done":
                    return
                if outcome is not None:
                    zone, ns_names = outcome
                    break
            else:
                raise Failed("every server of the zone failed")
        raise Failed("too many referrals")

    def digest(self, response, labels, qtype, zone):
        """ "done" when the answer is cached, (zone, ns names) for a referral, None for a failed server."""
        flags, answer, authority, additional = response
        rcode, aa = flags & 0xF, bool(flags & 0x0400)
        if rcode not in (NOERROR, NXDOMAIN):
            return None
        wanted = key(labels)
        at_name = [r for r in answer if key(r.labels) == wanted and r.rtype in (qtype, CNAME)]
        if aa and rcode == NOERROR and at_name:
            self.cache.put(at_name)
            return "done"
        soa = next((r for r in authority if r.rtype == SOA), None)
        if aa and (rcode == NXDOMAIN or not answer):
            if soa is None:
                return None
            self.cache.put_negative(labels, qtype, rcode, soa)
            return "done"
        ns = [r for r in authority if r.rtype == NS]
        if rcode != NOERROR or aa or answer or not ns:
            return None
        child = key(ns[0].labels)
        encloses = len(child) <= len(wanted) and wanted[len(wanted) - len(child) :] == child
        if not encloses or len(child) <= len(zone):
            return None  # a referral that does not go down
        ns = [r for r in ns if key(r.labels) == child]
        names = {key(r.names[0]) for r in ns}
        glue = [r for r in additional if r.rtype == A and key(r.labels) in names]
        self.cache.put(ns + glue)
        return ns[0].labels, [r.names[0] for r in ns]

    def address_of(self, ns_name, depth):
        found = self.cache.get(ns_name, A)
        if found is None:
            if depth >= MAX_DEPTH:
                return None
            try:
                rcode, answer, _ = self.resolve(ns_name, A, depth + 1)
            except Failed:
                return None
            found = [(r, t) for r, t in answer if r.rtype == A]
            if rcode != NOERROR or not found:
                return None
        return socket.inet_ntoa(found[0][0].rdata)

    def ask(self, address, labels, qtype):
        """(flags, answer, authority, additional) of a matching reply, or None."""
        ident = random.randrange(65536)
        query = make_query(ident, labels, qtype)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.connect((address, self.port))
                sock.send(query)
                deadline = time.monotonic() + ATTEMPT_S
                while (left := deadline - time.monotonic()) > 0:
                    sock.settimeout(left)
                    data = sock.recv(65535)
                    parsed = self.matching(data, ident, labels, qtype)
                    if parsed is None:
                        continue
                    if parsed[0] & 0x0200:  # TC: ask again over TCP
                        return self.ask_tcp(address, query, ident, labels, qtype)
                    return parsed
        except OSError:
            return None
        return None

    def ask_tcp(self, address, query, ident, labels, qtype):
        with socket.create_connection((address, self.port), timeout=ATTEMPT_S) as sock:
            sock.sendall(struct.pack(">H", len(query)) + query)
            size = struct.unpack(">H", recv_exact(sock, 2))[0]
            return self.matching(recv_exact(sock, size), ident, labels, qtype)

    @staticmethod
    def matching(data, ident, labels, qtype):
        try:
            got_id, flags, questions, answer, authority, additional, _ = parse(data)
        except FormErr:
            return None
        if got_id != ident or len(questions) != 1 or not flags & 0x8000:
            return None
        q_labels, q_type, _ = questions[0]
        if key(q_labels) != key(labels) or q_type != qtype:
            return None
        return flags, answer, authority, additional


def recv_exact(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


# --- serving -----------------------------------------------------------------------------------------------


def answer_query(resolver, msg, udp):
    """The reply to one client message, or None to drop it."""
    if len(msg) < 12:
        return None
    ident, flags = struct.unpack_from(">HH", msg)
    if flags & 0x8000:
        return None
    if (flags >> 11) & 0xF:
        return reply(ident, flags, None, NOTIMP)
    try:
        _, _, questions, answer, authority, additional, end = parse(msg)
        if len(questions) != 1 or answer or authority or len(additional) > 1 or end != len(msg):
            raise FormErr("not one plain question")
        if additional and (additional[0].rtype != OPT or additional[0].labels):
            raise FormErr("additional record is not OPT")
        if questions[0][2] != 1:
            raise FormErr("class is not IN")
    except FormErr:
        return reply(ident, flags, None, FORMERR)
    question = questions[0]
    try:
        rcode, answer_records, authority_records = resolver.resolve(question[0], question[1])
        wire = reply(ident, flags, question, rcode, answer_records, authority_records)
    except Failed:
        wire = reply(ident, flags, question, SERVFAIL)
    limit = max(512, additional[0].rclass) if additional else 512
    if udp and len(wire) > limit:
        truncated = bytearray(reply(ident, flags, question, NOERROR))
        truncated[2] = 0x83
        wire = bytes(truncated)
    return wire


def serve_udp(resolver, sock):
    def work(msg, peer):
        wire = answer_query(resolver, msg, udp=True)
        if wire is not None:
            sock.sendto(wire, peer)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        while True:
            msg, peer = sock.recvfrom(65535)
            pool.submit(work, msg, peer)


def serve_tcp_connection(resolver, conn):
    with conn:
        try:
            while True:
                size = struct.unpack(">H", recv_exact(conn, 2))[0]
                wire = answer_query(resolver, recv_exact(conn, size), udp=False)
                if wire is not None:
                    conn.sendall(struct.pack(">H", len(wire)) + wire)
        except OSError:
            return


def main():
    port = int(os.environ["PORT"])
    roots = [address.strip() for address in os.environ["ROOT_SERVERS"].split(",") if address.strip()]
    resolver = Resolver(roots, int(os.environ["DNS_PORT"]))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((HOST, port))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, port))
    listener.listen(64)
    threading.Thread(target=serve_udp, args=(resolver, udp), daemon=True).start()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_tcp_connection, args=(resolver, conn), daemon=True).start()


if __name__ == "__main__":
    main()
