"""Stage 4: CNAME chains, followed to the end across zones, returned in order; loops end in SERVFAIL."""

import dns.rcode
import dns.rdatatype

from dnsexpect import expect_rcode, expect_resolution


def resolve(stub, world, rng, role, rdtype="A"):
    name = world.name(role)
    reply = stub.ask(name, rdtype, ident=rng.randrange(0x10000))
    expect_resolution(reply, world.resolve(name, dns.rdatatype.from_text(rdtype)), f"{name} {rdtype}")


def check_one_cname_to_another_tld(stub, world, rng):
    """A CNAME into another TLD is followed: the CNAME, then the target's A records (or MX records, names expanded)"""
    resolve(stub, world, rng, "alias")
    resolve(stub, world, rng, "mxalias", "MX")


def check_chain_of_three_cnames(stub, world, rng):
    """A chain of three CNAMEs through three zones comes back whole, in order"""
    resolve(stub, world, rng, "hop1")
    resolve(stub, world, rng, "hop2")


def check_cname_question_gets_the_cname(stub, world, rng):
    """A question of type CNAME is answered with the CNAME itself, not chased"""
    resolve(stub, world, rng, "hop3", "CNAME")
    resolve(stub, world, rng, "alias", "CNAME")


def check_chain_into_nxdomain(stub, world, rng):
    """A chain that ends at a missing name: NXDOMAIN, the chain, and the last zone's SOA"""
    resolve(stub, world, rng, "dangling")


def check_chain_limit_on_both_sides(stub, world, rng):
    """A chain of 8 CNAMEs is followed to its end; a chain of 9 is SERVFAIL"""
    name = world.name("chain8")
    reply = stub.ask(name, "A", ident=rng.randrange(0x10000))
    expected = world.resolve(name, dns.rdatatype.A)
    expect_resolution(reply, expected, f"{name} A (a chain of 8 CNAMEs)", hint="only chains of more than 8 fail")
    name = world.name("chain9")
    reply = stub.ask(name, "A", ident=rng.randrange(0x10000))
    expect_rcode(reply, dns.rcode.SERVFAIL, f"{name} A (a chain of 9 CNAMEs)", hint="a chain of more than 8 fails")


def check_cname_loop_is_servfail(stub, world, rng):
    """A CNAME loop ends in SERVFAIL, and the resolver still answers afterwards"""
    name = world.name("loopa")
    reply = stub.ask(name, "A", ident=rng.randrange(0x10000))
    expect_rcode(reply, dns.rcode.SERVFAIL, f"{name} A (a CNAME loop)", hint="remember the names a chain visited")
    resolve(stub, world, rng, "many5")
