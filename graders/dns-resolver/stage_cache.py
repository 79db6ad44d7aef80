"""Stage 8: answers from the cache send nothing upstream; TTLs count down and run out, negative ones too."""

import math
import time
from dataclasses import dataclass

import dns.rdatatype
import pytest

from dnsexpect import expect_resolution
from dnsstub import Reply, Stub
from labkit.checks import expect, fail

SETTLE_S = 1.2  # how long the countdown check waits between two questions
EXPIRE_S = 1.6  # past a 1-second TTL, whatever the rounding


def resolve(stub, world, rng, role, rdtype="A", *, name=None):
    name = name or world.name(role)
    reply = stub.ask(name, rdtype, ident=rng.randrange(0x10000))
    expect_resolution(reply, world.resolve(name, dns.rdatatype.from_text(rdtype)), f"{name} {rdtype}")
    return reply


def expect_no_traffic(queries, mark, why):
    sent = queries.since(mark)
    if sent:
        fail(
            f"{why}, but the resolver asked upstream again",
            expected="no upstream query",
            got="\n".join(str(query) for query in sent[:6]),
            hint="answer from the cache while the TTL lasts; compare names case-insensitively",
        )


def check_repeated_question_sends_nothing_upstream(stub, world, rng, queries):
    """A repeated question, in other letter case, is answered from the cache"""
    for role, rdtype in (("www", "A"), ("alias", "A"), ("mx", "MX")):
        resolve(stub, world, rng, role, rdtype)
        mark = queries.mark()
        resolve(stub, world, rng, role, rdtype, name=world.name(role).swapcase())
        expect_no_traffic(queries, mark, f"{world.name(role)} {rdtype} was asked a second time")


def check_known_zone_is_asked_directly(stub, world, rng, queries):
    """A new name in a zone already visited goes straight to that zone's servers"""
    resolve(stub, world, rng, "many0")
    mark = queries.mark()
    resolve(stub, world, rng, "many2")  # another name of the same zone
    zone_servers = world.serving_of(world.name("remote"))
    elsewhere = [str(q) for q in queries.since(mark) if q.server not in zone_servers]
    if elsewhere:
        fail(
            f"{world.name('many2')} is in a zone the resolver already knew, but it asked servers above that zone",
            expected=f"queries to {', '.join(zone_servers)} only",
            got="\n".join(elsewhere[:6]),
            hint="cache the referral's NS records and glue, and start at the closest zone you know",
        )


def check_new_zone_starts_at_its_known_top_level_domain(stub, world, rng, queries):
    """A name in a zone not yet visited, below a top-level domain already visited, starts at that domain's servers"""
    resolve(stub, world, rng, "many1")  # the first top-level domain is known from here on
    mark = queries.mark()
    resolve(stub, world, rng, "near")  # a zone of the same domain, whose name server's zone is new too
    roots = [str(q) for q in queries.since(mark) if q.server in world.roots]
    if roots:
        fail(
            f"{world.name('near')} is in a new zone below the top-level domain {world.tlds[0]}., whose servers the "
            "resolver already knew, but it asked a root server",
            expected=f"queries to {', '.join(world.serving_of(world.tlds[0] + '.'))} first",
            got="\n".join(roots[:6]),
            hint="start at the closest enclosing zone whose NS records you have cached, a top-level domain too",
        )


@dataclass(frozen=True)
class Primed:
    before: float  # just before the question was sent
    after: float  # just after its reply came
    reply: Reply


_primed: dict[int, dict[str, Primed]] = {}  # resolver process id -> its primed questions


@pytest.fixture
def primed(resolver, world):
    """The countdown and expiry questions, asked once per resolver and together, so the checks' waits overlap."""
    if resolver.pid not in _primed:
        stub = Stub(resolver.port or 0)
        asked = {}
        for n, role in enumerate(("long", "brief", "nx-brief")):
            before = time.monotonic()
            reply = stub.ask(world.name(role), "A", ident=0x2000 + n)
            asked[role] = Primed(before, time.monotonic(), reply)
        _primed[resolver.pid] = asked
    return _primed[resolver.pid]


def wait_until(moment):
    time.sleep(max(0.0, moment - time.monotonic()))


def check_ttls_count_down(stub, world, rng, queries, primed):
    """The TTL sent is the cached one minus the whole seconds elapsed"""
    name, first = world.name("long"), primed["long"]
    expect_resolution(first.reply, world.resolve(name, dns.rdatatype.A), f"{name} A")
    wait_until(first.after + SETTLE_S)
    mark = queries.mark()
    before_second = time.monotonic()
    second = resolve(stub, world, rng, "long").message.answer[0].ttl
    after_second = time.monotonic()
    expect_no_traffic(queries, mark, f"{name} A was asked again within its TTL")
    # The record arrived between the first two instants and was read again between the last two.
    lowest = 3600 - math.ceil(after_second - first.before)
    highest = 3600 - math.floor(before_second - first.after)
    first_ttl = first.reply.message.answer[0].ttl
    if not (lowest <= second <= highest and second < first_ttl):
        fail(
            f"asked again at least {SETTLE_S:g} s later, the TTL of {name} did not count down by the seconds elapsed",
            expected=f"from {lowest} to {highest} (the first reply said {first_ttl})",
            got=str(second),
            hint="TTL sent = the TTL received minus the whole seconds since you received it",
        )


def check_expired_entries_are_fetched_again(stub, world, rng, queries, primed):
    """A 1-second record and a 1-second negative answer are asked upstream again once expired"""
    for role in ("brief", "nx-brief"):
        expect_resolution(primed[role].reply, world.resolve(world.name(role), dns.rdatatype.A), world.name(role))
    wait_until(max(primed[role].after for role in ("brief", "nx-brief")) + EXPIRE_S)
    mark = queries.mark()
    for role in ("brief", "nx-brief"):
        resolve(stub, world, rng, role)
    asked = {q.qname for q in queries.since(mark)}
    for role in ("brief", "nx-brief"):
        expect(
            world.name(role) in asked,
            f"{world.name(role)} was answered from the cache {EXPIRE_S:g} s after it came with a TTL of 1",
            hint="an entry whose remaining TTL reached 0 is gone: ask upstream again",
        )


def check_negative_answers_are_cached(stub, world, rng, queries):
    """NXDOMAIN (for every type) and NODATA are answered from the cache while min(SOA TTL, MINIMUM) lasts"""
    for role, rdtype in (("nx-main", "A"), ("nx-remote", "TXT"), ("nodata-leaf", "AAAA")):
        resolve(stub, world, rng, role, rdtype)
        mark = queries.mark()
        resolve(stub, world, rng, role, rdtype)
        expect_no_traffic(queries, mark, f"the negative answer for {world.name(role)} {rdtype} was asked again")
    mark = queries.mark()
    for rdtype in ("MX", "TXT", "AAAA"):
        resolve(stub, world, rng, "nx-main", rdtype)
    expect_no_traffic(queries, mark, f"{world.name('nx-main')} does not exist, cached for every type")
    name = world.name("nodata-leaf")
    reply = stub.ask(name, "A", ident=rng.randrange(0x10000))
    expect_resolution(
        reply,
        world.resolve(name, dns.rdatatype.A),
        f"{name} A, after its NODATA for AAAA",
        hint="NODATA is cached for its own type only; NXDOMAIN is the one cached for every type",
    )
