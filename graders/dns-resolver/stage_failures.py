"""Stage 7: dead, refusing and forging servers: the next server, and SERVFAIL in bounded time."""

import socket
from dataclasses import dataclass

import dns.opcode
import dns.rcode
import dns.rdatatype
import pytest

from dnsexpect import expect_rcode, expect_resolution
from dnsstub import Stub, expect_reply_header, query_wire, strict
from labkit.checks import expect

NEXT_SERVER = (
    "a server failed when it gave no reply within 0.9 to 1.2 s, answered REFUSED or SERVFAIL, or replied with anything "
    "but an answer (AA = 1) or a referral to a zone below the one you asked that encloses the name: then ask the "
    "zone's next server, in the order of the NS records"
)
WAIT_S = (0.8, 1.7)  # the README's 0.9 to 1.2 s for one upstream reply, with room for a busy machine
UNASKED = (
    "use and cache only the answer's records at the name you asked, and a referral's NS records with the glue of "
    "those NS names; ignore every other record: a server could poison your cache with them"
)
FORGED = "accept a reply only from the address and port you asked, with QR = 1, your query's ID and question"


def asked_servers(queries, mark, name):
    return [q.server for q in queries.since(mark) if q.qname == name.lower()]


@dataclass(frozen=True)
class Ahead:
    sock: socket.socket
    ident: int
    mark: int  # the query log's length when it was sent


_ahead: dict[int, Ahead] = {}  # resolver process id -> its all-dead question


@pytest.fixture
def dead_zone_question(resolver, world, queries):
    """The all-dead question, sent by the stage's first check so that its wait overlaps the other checks'."""
    if resolver.pid not in _ahead:
        ident = 0x3D3D
        wire = query_wire(world.name("dead"), "A", ident=ident)
        mark = queries.mark()
        _ahead[resolver.pid] = Ahead(Stub(resolver.port or 0).send_udp(wire, "the all-dead question"), ident, mark)
    return _ahead[resolver.pid]


def check_silent_server_then_the_next(stub, world, rng, queries, dead_zone_question):
    """A name server that never answers is given up, and the zone's next one asked"""
    name = world.name("flaky")
    mark = queries.mark()
    reply = stub.ask(name, "A", ident=rng.randrange(0x10000))
    expect_resolution(reply, world.resolve(name, dns.rdatatype.A), f"{name} A", hint=NEXT_SERVER)
    zone_servers = world.serving_of(name.split(".", 1)[1])
    asked = [query for query in queries.since(mark) if query.qname == name.lower() and query.server in zone_servers]
    path = [query.server for query in asked]
    expect(
        path[:2] == zone_servers,
        f"the zone's servers were asked in the order {path}, expected the silent one then {zone_servers[1]}",
        hint="ask a zone's servers in the order of the referral's NS records",
    )
    waited = asked[1].at - asked[0].at
    expect(
        WAIT_S[0] <= waited <= WAIT_S[1],
        f"the resolver waited {waited:.2f} s for the silent server before it asked the next one",
        hint="wait between 0.9 and 1.2 s for each upstream reply, then try the zone's next server",
    )


def check_refused_and_servfail_then_the_next(stub, world, rng, queries):
    """Servers that refuse, fail, refer up, sideways or astray, or reply without authority: the last is asked"""
    name = world.name("choosy")
    mark = queries.mark()
    reply = stub.ask(name, "A", ident=rng.randrange(0x10000))
    expect_resolution(reply, world.resolve(name, dns.rdatatype.A), f"{name} A", hint=NEXT_SERVER)
    zone_servers = world.serving_of(name.split(".", 1)[1])
    path = [server for server in asked_servers(queries, mark, name) if server in zone_servers]
    expect(
        path == zone_servers,
        f"the zone's servers were asked in the order {path}, expected {zone_servers}",
        hint=NEXT_SERVER,
    )


def check_a_name_server_without_an_address_then_the_next(stub, world, rng, queries):
    """Glueless NS names without an address (NXDOMAIN, NODATA, failure): those servers failed, the next is asked"""
    name = world.name("halfway")
    mark = queries.mark()
    reply = stub.ask(name, "A", ident=rng.randrange(0x10000))
    expect_resolution(
        reply,
        world.resolve(name, dns.rdatatype.A),
        f"{name} A (its first three name servers have no address)",
        hint="a name server whose address cannot be found has failed: go on with the zone's next one",
    )
    looked_up = {q.qname for q in queries.since(mark) if q.qtype == "A"}
    missed = [ns_name for ns_name in world.ns_names(name.split(".", 1)[1])[:3] if ns_name not in looked_up]
    expect(
        not missed,
        f"the resolver never looked up the address of {', '.join(missed)}, the zone's first name server(s)",
        hint="try a zone's name servers in the order of its NS records, resolving each glueless one in turn",
    )


def check_records_nobody_asked_for_are_ignored(stub, world, rng):
    """A server adds A records for other names to its answers and referrals: none is used nor cached"""
    for role in ("lured", "nx-lured", "lured-deep"):
        name = world.name(role)
        reply = stub.ask(name, "A", ident=rng.randrange(0x10000))
        expect_resolution(reply, world.resolve(name, dns.rdatatype.A), f"{name} A", hint=UNASKED)
    for role, where in (("victim-answer", "an answer"), ("victim-glue", "an additional section")):
        name = world.name(role)
        reply = stub.ask(name, "A", ident=rng.randrange(0x10000))
        expect_resolution(
            reply,
            world.resolve(name, dns.rdatatype.A),
            f"{name} A, after a server slipped a forged A record for it into {where}",
            hint=UNASKED,
        )


def check_forged_replies_are_ignored(stub, world, rng):
    """Replies from another address, with a wrong ID, for another question, with QR = 0, or cut short: ignored"""
    name = world.name("forged")
    reply = stub.ask(name, "A", ident=rng.randrange(0x10000))
    expect_resolution(
        reply, world.resolve(name, dns.rdatatype.A), f"{name} A (its server forges replies first)", hint=FORGED
    )


def check_all_servers_dead_is_servfail(stub, world, queries, dead_zone_question):
    """A zone whose every server is silent: each is tried once, then SERVFAIL"""
    name = world.name("dead")
    what = f"{name} A (every server silent)"
    with dead_zone_question.sock as sock:
        reply = strict(stub.receive_udp(sock, what), what)
    expect_reply_header(reply, what, ident=dead_zone_question.ident, rd=True, opcode=dns.opcode.QUERY)
    expect_rcode(reply, dns.rcode.SERVFAIL, what, hint="never leave a client unanswered")
    zone_servers = world.serving_of(name.split(".", 1)[1])
    tried = [server for server in asked_servers(queries, dead_zone_question.mark, name) if server in zone_servers]
    expect(
        sorted(tried) == sorted(zone_servers),
        f"the zone's servers {zone_servers} should each be tried once; the resolver asked {tried}",
        hint="try each server of the zone once, in order; when all failed, reply SERVFAIL",
    )
