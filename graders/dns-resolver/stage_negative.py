"""Stage 5: NXDOMAIN and NODATA, with the zone's SOA and the negative TTL."""

import dns.rdatatype

from dnsexpect import expect_resolution


def resolve(stub, world, rng, role, rdtype="A"):
    name = world.name(role)
    reply = stub.ask(name, rdtype, ident=rng.randrange(0x10000))
    expect_resolution(reply, world.resolve(name, dns.rdatatype.from_text(rdtype)), f"{name} {rdtype}")


def check_nxdomain_with_the_soa(stub, world, rng):
    """NXDOMAIN in two zones: RCODE 3, no answer, the SOA with TTL min(SOA TTL, MINIMUM), both sides"""
    resolve(stub, world, rng, "nx-main")  # MINIMUM below the SOA's TTL
    resolve(stub, world, rng, "nx-remote", "TXT")  # the SOA's TTL below MINIMUM


def check_nodata_with_the_soa(stub, world, rng):
    """NODATA: RCODE 0, no answer, the zone's SOA; an empty non-terminal is NODATA too"""
    resolve(stub, world, rng, "nodata-leaf", "AAAA")
    resolve(stub, world, rng, "nodata-remote", "MX")
    resolve(stub, world, rng, "ent", "A")
