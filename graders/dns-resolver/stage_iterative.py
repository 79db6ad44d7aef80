"""Stage 3: resolution from the root, through referrals with glue and delegations without."""

import dns.rdatatype

from dnsexpect import expect_resolution
from labkit.checks import expect, fail

GLUELESS = "an NS name with no A record in the referral's additional section must be resolved (type A) first"


def resolve(stub, world, rng, role, rdtype="A"):
    name = world.name(role)
    reply = stub.ask(name, rdtype, ident=rng.randrange(0x10000))
    expect_resolution(reply, world.resolve(name, dns.rdatatype.from_text(rdtype)), f"{name} {rdtype}")


def check_walk_starts_at_the_first_root_and_goes_down(stub, world, rng, queries):
    """A first question walks root → TLD → zone, with RD=0, and returns the zone's A records"""
    mark = queries.mark()
    resolve(stub, world, rng, "www")
    sent = queries.since(mark)
    path = [query.server for query in sent]
    main_servers = world.serving_of(world.name("main"))
    tld_servers = world.serving_of(f"{world.tlds[0]}.")
    if not path:
        fail("the resolver answered without asking any upstream server", hint="resolve iteratively, from the root")
    expect(
        len(path) >= 3 and path[0] == world.roots[0] and path[1] in tld_servers and path[-1] in main_servers,
        f"the resolver did not walk down from the first root server: it asked {', '.join(path)}",
        hint="start at ROOT_SERVERS' first address, follow the referral to the TLD's servers, then the zone's",
    )
    recursive = [str(query) for query in sent if query.rd]
    expect(not recursive, f"upstream queries had RD=1: {recursive[:3]}", hint="set RD=0 in every upstream query")


def check_glueless_delegations(stub, world, rng, queries):
    """Zones whose name servers have no glue (in another TLD, and in the same one) are resolved"""
    mark = queries.mark()
    for role in ("far", "near"):
        name = world.name(role)
        reply = stub.ask(name, "A", ident=rng.randrange(0x10000))
        expect_resolution(reply, world.resolve(name, dns.rdatatype.A), f"{name} A", hint=GLUELESS)
    ns_lookups = [q for q in queries.since(mark) if q.qname.startswith("ns1.") and q.qtype == "A"]
    expect(
        bool(ns_lookups),
        "the resolver never asked for the address of the glueless name server",
        hint=GLUELESS,
    )


def check_a_records_in_several_zones(stub, world, rng):
    """A questions for several names get exactly the zone's records, one or several of them"""
    for role in ("solo", "many1", "many3", "many5"):
        resolve(stub, world, rng, role)


def check_other_record_types(stub, world, rng):
    """AAAA, TXT, MX and NS questions get the zone's records, names in their data expanded"""
    for role, rdtype in (("v6host", "AAAA"), ("txt", "TXT"), ("mx", "MX"), ("main", "NS"), ("remote", "NS")):
        resolve(stub, world, rng, role, rdtype)


def check_a_zone_apex_is_reached_through_a_referral_to_itself(stub, world, rng):
    """An NS question for a zone's own name, not yet visited: its parent refers to the very name asked"""
    name = world.name("apex")
    reply = stub.ask(name, "NS", ident=rng.randrange(0x10000))
    expect_resolution(
        reply,
        world.resolve(name, dns.rdatatype.NS),
        f"{name} NS",
        hint="a referral's zone encloses the name asked when it is that name itself: follow it to the zone's servers",
    )


def check_a_250_byte_name_with_pointers_past_offset_255(stub, world, rng):
    """A name of 250 bytes: its referral's glue names are compressed with pointers that need all 14 bits"""
    name = world.name("deep")
    reply = stub.ask(name, "A", ident=rng.randrange(0x10000))
    expect_resolution(
        reply,
        world.resolve(name, dns.rdatatype.A),
        f"a 250-byte name, {name[:24]}…{name[-24:]} A",
        hint="a pointer's offset is 14 bits: the low 6 bits of its first byte, then all 8 of the second",
    )
