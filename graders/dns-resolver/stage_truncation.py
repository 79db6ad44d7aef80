"""Stage 6: TC from upstream means TCP; a reply over the client's limit means TC to the client."""

import struct

import dns.flags
import dns.rcode
import dns.rdatatype

from dnsexpect import expect_resolution
from dnsstub import query_wire, strict
from labkit.checks import expect, fail


def expect_whole(reply, world, role, what):
    name = world.name(role)
    expect(
        not reply.flag(dns.flags.TC), f"the reply to {what} has TC=1 but should come whole ({len(reply.wire)} bytes)"
    )
    expect_resolution(
        reply,
        world.resolve(name, dns.rdatatype.TXT),
        what,
        hint="a UDP reply with TC=1 from upstream is incomplete: ask the same server the same question over TCP",
    )


def check_upstream_truncation_is_retried_over_tcp(stub, world, rng, queries):
    """An upstream reply with TC=1 is asked again over TCP, and the records come whole"""
    name = world.name("over512")
    mark = queries.mark()
    reply = stub.ask(name, "TXT", ident=rng.randrange(0x10000), tcp=True)
    expect_whole(reply, world, "over512", f"{name} TXT over TCP")
    tcp = [q for q in queries.since(mark) if q.transport == "tcp" and q.qname == name.lower()]
    expect(bool(tcp), "the records came whole but no upstream query went over TCP", hint="a TC=1 reply is incomplete")


def check_udp_replies_up_to_512_bytes(stub, world, rng):
    """Over UDP without OPT: a 512-byte reply comes whole; a 513-byte one gets TC=1, the question, no record"""
    name = world.name("fit512")
    reply = stub.ask(name, "TXT", ident=rng.randrange(0x10000))
    expect_whole(reply, world, "fit512", f"{name} TXT (a 512-byte reply)")
    expect(len(reply.wire) == 512, f"the reply to {name} TXT should be exactly 512 bytes, not {len(reply.wire)}")
    for role, rd in (("over512", True), ("large", False)):
        name = world.name(role)
        ident = rng.randrange(0x10000)
        reply = stub.ask(name, "TXT", ident=ident, rd=rd)
        counts = struct.unpack_from(">3H", reply.wire, 6)
        if not reply.flag(dns.flags.TC) or counts != (0, 0, 0) or reply.rcode != dns.rcode.NOERROR:
            fail(
                f"the complete reply to {name} TXT is over 512 bytes: over UDP it must be truncated",
                expected="TC=1, RCODE NOERROR, the question, ANCOUNT=NSCOUNT=ARCOUNT=0",
                got=f"TC={int(reply.flag(dns.flags.TC))}, RCODE {dns.rcode.to_text(reply.rcode)}, counts {counts}, "
                f"{len(reply.wire)} bytes",
                hint="measure the complete reply; past the client's limit send the header and question only, with TC",
            )


def check_opt_record_raises_the_limit(stub, world, rng):
    """An OPT record of 1232 lets a large reply come whole over UDP; one under 512 leaves the limit at 512"""
    for role, payload in (("large", 1232), ("over512", 1232), ("fit512", 256)):
        name = world.name(role)
        reply = stub.ask(name, "TXT", ident=rng.randrange(0x10000), payload=payload)
        expect_whole(reply, world, role, f"{name} TXT with an OPT record of {payload}")
    name = world.name("over512")
    reply = stub.ask(name, "TXT", ident=rng.randrange(0x10000), payload=256)
    expect(
        reply.flag(dns.flags.TC) and struct.unpack_from(">3H", reply.wire, 6) == (0, 0, 0),
        f"the reply to {name} TXT is 513 bytes, over the limit of 512 that an OPT record of 256 leaves, but came "
        f"without TC=1 ({len(reply.wire)} bytes)",
        hint="the limit is 512, or the OPT record's CLASS when that is larger",
    )


def check_opt_limit_is_exact(stub, world, rng):
    """With an OPT record of exactly the reply's size it comes whole over UDP; one byte less, TC=1"""
    name = world.name("large")
    size = len(stub.ask(name, "TXT", ident=rng.randrange(0x10000), tcp=True).wire)
    expect_whole(stub.ask(name, "TXT", ident=rng.randrange(0x10000), payload=size), world, "large", f"{name} TXT")
    reply = stub.ask(name, "TXT", ident=rng.randrange(0x10000), payload=size - 1)
    expect(
        reply.flag(dns.flags.TC) and struct.unpack_from(">3H", reply.wire, 6) == (0, 0, 0),
        f"the reply to {name} TXT is {size} bytes, over the OPT record's {size - 1}, but came without TC=1 "
        f"({len(reply.wire)} bytes)",
        hint="the OPT record's CLASS is the client's limit when it is over 512: a longer reply gets TC=1, no record",
    )


def check_tcp_serves_several_queries_on_one_connection(stub, world, rng):
    """Over TCP, three queries on one connection get three whole replies, in order"""
    asked = [("large", "TXT"), ("www", "A"), ("fit512", "TXT")]
    idents = rng.sample(range(0x10000), len(asked))
    wires = [
        query_wire(world.name(role), rdtype, ident=ident) for (role, rdtype), ident in zip(asked, idents, strict=True)
    ]
    replies = stub.exchange_tcp(wires, "three queries on one connection")
    for (role, rdtype), ident, data in zip(asked, idents, replies, strict=True):
        what = f"{world.name(role)} {rdtype} over TCP"
        reply = strict(data, what)
        expect(reply.message.id == ident, f"replies came out of order: {what} got the reply for ID {reply.message.id}")
        expect_resolution(reply, world.resolve(world.name(role), dns.rdatatype.from_text(rdtype)), what)
