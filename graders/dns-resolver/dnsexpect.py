"""Expectations on a resolver's reply: the oracle's records, in the README's sections, with sane TTLs."""

from __future__ import annotations

import struct

import dns.name
import dns.rcode
import dns.rrset

from dnsstub import Reply
from dnsworld import Resolution
from labkit.checks import fail


def show(rrsets: list[dns.rrset.RRset] | tuple[dns.rrset.RRset, ...]) -> str:
    return "\n".join(rrset.to_text() for rrset in rrsets) or "(nothing)"


def expect_rcode(reply: Reply, expected: dns.rcode.Rcode, what: str, *, hint: str) -> None:
    if reply.rcode != expected:
        fail(
            f"the reply to {what} has RCODE {dns.rcode.to_text(reply.rcode)}, expected {dns.rcode.to_text(expected)}",
            expected=dns.rcode.to_text(expected),
            got=f"{dns.rcode.to_text(reply.rcode)}, answer:\n{show(reply.message.answer)}",
            hint=hint,
        )


def expect_resolution(reply: Reply, expected: Resolution, what: str, *, hint: str | None = None) -> None:
    """The whole outcome: RCODE, the answer section in order, the SOA of a negative answer, nothing else.
    ``hint`` replaces the general advice on a wrong RCODE or answer section."""
    expect_rcode(reply, expected.rcode, what, hint=hint or _rcode_hint(expected.rcode))
    message = reply.message
    got = [(rrset.name, rrset.rdtype, set(rrset)) for rrset in message.answer]
    wanted = [(rrset.name, rrset.rdtype, set(rrset)) for rrset in expected.answer]
    if got != wanted:
        fail(
            f"the answer section of the reply to {what} is wrong",
            expected=show(expected.answer),
            got=show(message.answer),
            hint=hint
            or "the CNAME chain first, in order (each CNAME's target is the next record's name), then every "
            "record of the asked type at the chain's end",
        )
    for got_rrset, zone_rrset in zip(message.answer, expected.answer, strict=True):
        _expect_ttl(got_rrset, zone_rrset.ttl, what)
    if expected.soa is None:
        if message.authority or message.additional:
            fail(
                f"the reply to {what} has records outside the answer section",
                got=show(message.authority + message.additional),
                hint="a positive answer has empty authority and additional sections",
            )
        expect_owner_compressed(reply, what)
        return
    if [(r.name, r.rdtype, set(r)) for r in message.authority] != [(expected.soa.name, 6, set(expected.soa))]:
        fail(
            f"the authority section of the negative reply to {what} is not the zone's SOA",
            expected=expected.soa.to_text(),
            got=show(message.authority),
            hint="copy the SOA record the authoritative server sent in its authority section",
        )
    _expect_ttl(message.authority[0], expected.negative_ttl, what, negative=True)
    if message.additional:
        fail(f"the negative reply to {what} has additional records", got=show(message.additional))
    expect_owner_compressed(reply, what)


def _expect_ttl(rrset: dns.rrset.RRset, most: int, what: str, *, negative: bool = False) -> None:
    if rrset.ttl > most:
        rule = "min(the SOA's TTL, its MINIMUM field)" if negative else "the TTL the authoritative server sent"
        fail(
            f"a TTL in the reply to {what} is above {rule}",
            expected=f"at most {most} for {rrset.name} {rrset.rdtype.name}",
            got=str(rrset.ttl),
            hint="send what is left of the cached TTL: it counts down from the upstream value, never up",
        )


def expect_owner_compressed(reply: Reply, what: str) -> None:
    """Every answer record whose owner is the question's name starts with the pointer c0 0c."""
    wire = reply.wire
    qname = reply.message.question[0].name
    offset = 12 + dns.name.from_wire(wire, 12)[1] + 4
    ancount = struct.unpack_from(">H", wire, 6)[0]
    for n in range(ancount):
        owner, used = dns.name.from_wire(wire, offset)
        if owner == qname and wire[offset : offset + 2] != b"\xc0\x0c":
            fail(
                f"answer record {n + 1} of the reply to {what} does not name its owner with the pointer c0 0c",
                expected=f"c0 0c (the question's name at offset 12) for {owner}",
                got=wire[offset : offset + used].hex(" "),
                hint="an answer record whose name is the question's name is written as the 2-byte pointer c0 0c",
            )
        offset += used
        offset += 10 + struct.unpack_from(">H", wire, offset + 8)[0]


def _rcode_hint(rcode: dns.rcode.Rcode) -> str:
    return {
        dns.rcode.NOERROR: "walk down from the root: follow referrals (NS plus glue) until a server answers with AA=1",
        dns.rcode.NXDOMAIN: "an authoritative RCODE 3 means the name does not exist: pass NXDOMAIN on",
        dns.rcode.SERVFAIL: "when resolution cannot finish (all servers failed, a CNAME loop), reply SERVFAIL",
    }.get(rcode, "")
