"""Stage 2: malformed queries get FORMERR (header only), never a crash, a hang or silence."""

import struct

import dns.opcode
import dns.rcode

from dnsstub import expect_reply_header, strict
from labkit.checks import expect, fail

QTYPE_A = struct.pack(">HH", 1, 1)
OPT_RECORD = b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)  # root name, TYPE OPT, CLASS 1232, no RDATA


def header(ident, qd=1, an=0, ns=0, ar=0, flags=0x0100):
    return struct.pack(">6H", ident, flags, qd, an, ns, ar)


def labels(*parts):
    return b"".join(bytes([len(p)]) + p for p in parts)


def name_of_size(size, rng):
    """A name of exactly ``size`` wire bytes (final zero included), in labels of at most 63 bytes."""
    parts, left = [], size - 1
    while left > 0:
        length = min(63, left - 1) if left - 1 <= 63 else rng.randrange(40, 64)
        if left - (length + 1) == 1:
            length -= 1  # never leave room for a 0-byte label
        parts.append(bytes(rng.choice(b"abcdefghij") for _ in range(length)))
        left -= length + 1
    return labels(*parts) + b"\0"


def expect_formerr(stub, wire, what, ident):
    reply = strict(stub.exchange_udp(wire, what), what)
    expect_reply_header(reply, what, ident=ident, rd=True, opcode=dns.opcode.QUERY)
    if reply.rcode != dns.rcode.FORMERR:
        fail(
            f"{what} was not refused as malformed",
            expected="FORMERR (1)",
            got=dns.rcode.to_text(reply.rcode),
            hint="check every rule of README's 'A well-formed query' before resolving anything",
        )
    counts = struct.unpack_from(">4H", reply.wire, 4)
    expect(counts == (0, 0, 0, 0), f"the FORMERR reply to {what} must be a header only, but its counts are {counts}")


def expect_not_formerr(stub, wire, what, ident):
    reply = strict(stub.exchange_udp(wire, what), what)
    expect_reply_header(reply, what, ident=ident, rd=True, opcode=dns.opcode.QUERY)
    if reply.rcode == dns.rcode.FORMERR:
        fail(f"{what} is well-formed but got FORMERR", hint="the limits are inclusive: 63-byte labels, 255-byte names")


def check_label_and_name_limits(stub, world, rng):
    """Labels over 63 bytes and names over 255 bytes get FORMERR; 63 and 255 exactly do not"""
    zone = labels(*(part.encode() for part in world.name("main").rstrip(".").split(".")))
    ident = rng.randrange(0x10000)
    for size in (64, 100):
        wire = header(ident) + labels(b"a" * size) + zone + b"\0" + QTYPE_A
        expect_formerr(stub, wire, f"a query with a {size}-byte label", ident)
    wire = header(ident) + labels(b"b" * 63) + zone + b"\0" + QTYPE_A
    expect_not_formerr(stub, wire, "a query with a 63-byte label", ident)
    for size in (256, 257, 300):
        expect_formerr(stub, header(ident) + name_of_size(size, rng) + QTYPE_A, f"a {size}-byte name", ident)
    expect_not_formerr(stub, header(ident) + name_of_size(255, rng) + QTYPE_A, "a 255-byte name", ident)


def check_compression_pointer_attacks(stub, rng):
    """Pointers to themselves, loops, forward and out-of-bounds pointers get FORMERR, without a hang"""
    ident = rng.randrange(0x10000)
    cases = {
        "a name that is a pointer to itself": b"\xc0\x0c",
        "a pointer back to the start of its own name (a loop)": labels(b"www", b"loop") + b"\xc0\x0c",
        "a pointer loop through two labels": labels(b"ab") + b"\xc0\x12" + labels(b"cd") + b"\xc0\x0c",
        "a forward pointer": b"\xc0\x12" + b"\0\0\0\0" + labels(b"fwd") + b"\0",
        "a pointer past the end of the message": labels(b"x") + b"\xc1\xf4",
        "a pointer cut off by the end of the message": labels(b"x") + b"\xc0",
    }
    for what, name in cases.items():
        tail = b"" if name.endswith(b"\xc0") else QTYPE_A
        expect_formerr(stub, header(ident) + name + tail, f"a query with {what}", ident)


def check_reserved_label_types(stub, rng):
    """Length bytes with the reserved top bits 01 and 10 get FORMERR"""
    ident = rng.randrange(0x10000)
    for byte in (0x40, 0x80, 0x7F, 0xBF):
        wire = header(ident) + labels(b"ok") + bytes([byte]) + b"x" * 4 + b"\0" + QTYPE_A
        expect_formerr(stub, wire, f"a query with the length byte {byte:#04x}", ident)


def check_counts_and_sections(stub, world, rng):
    """No question, two questions, a cut question or OPT record, records in the query, bytes after it: FORMERR"""
    ident = rng.randrange(0x10000)
    question = labels(*(p.encode() for p in world.name("www").rstrip(".").split("."))) + b"\0" + QTYPE_A
    record = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes(4)
    cases = {
        "no question (QDCOUNT 0)": header(ident, qd=0),
        "two questions": header(ident, qd=2) + question + question,
        "QDCOUNT 1 and no question": header(ident),
        "a question cut before its QCLASS": header(ident) + question[:-2],
        "a question one byte short": header(ident) + question[:-1],
        "an answer record (ANCOUNT 1)": header(ident, an=1) + question + record,
        "an authority record (NSCOUNT 1)": header(ident, ns=1) + question + record,
        "an A record where the OPT record goes": header(ident, ar=1) + question + record,
        "an A record with the root name where the OPT record goes": header(ident, ar=1) + question + b"\0" + record[2:],
        "an OPT record whose name is not the root": header(ident, ar=1) + question + b"\xc0\x0c" + OPT_RECORD[1:],
        "three bytes after the question": header(ident) + question + b"\0\0\0",
        "two OPT records (ARCOUNT 2)": header(ident, ar=2) + question + OPT_RECORD + OPT_RECORD,
        "two bytes after the OPT record": header(ident, ar=1) + question + OPT_RECORD + b"\0\0",
        "an OPT record cut inside its fixed fields": header(ident, ar=1) + question + OPT_RECORD[:7],
        "an OPT record one byte short": header(ident, ar=1) + question + OPT_RECORD[:-1],
        "an OPT record with 2 of its RDLENGTH 4 bytes": header(ident, ar=1) + question + OPT_RECORD[:-2] + b"\0\4\0\0",
        "QCLASS 3 (CHAOS) instead of 1 (IN)": header(ident) + question[:-2] + b"\0\3",
    }
    for what, wire in cases.items():
        expect_formerr(stub, wire, f"a query with {what}", ident)


def check_short_and_reply_messages_are_dropped(stub, world, rng):
    """Messages under 12 bytes and messages with QR=1 get no reply, and the resolver still answers"""
    ident = rng.randrange(0x10000)
    question = labels(*(p.encode() for p in world.name("www").rstrip(".").split("."))) + b"\0" + QTYPE_A
    answered = stub.answered_udp(
        {
            "a 5-byte message": header(ident)[:5],
            "an 11-byte message": header(ident)[:11],
            "a message with QR=1 (a reply, not a query)": header(ident, flags=0x8100) + question,
        }
    )
    expect(
        not answered,
        f"{' and '.join(answered)} got a reply; such messages must be dropped",
        hint="drop messages shorter than the 12-byte header and messages with QR=1: they are not queries",
    )
    expect_not_formerr(stub, header(ident) + question, "a well-formed query after the malformed ones", ident)
