"""Replies of the grader's servers that look usable but are not: a resolver must treat each as its README says.

``mislead`` builds the reply of a server that neither answers nor refers as it should (README "Walking down",
anything else: that server failed): a referral to a zone that does not enclose the name, NXDOMAIN or an answer
without AA next to a referral's NS records, and an empty NOERROR reply. Each referral points at the refusing
server, so a resolver that follows it ends in SERVFAIL. ``poison`` adds to a correct reply an A record for a name
nobody asked about, which a resolver must neither use nor cache.
"""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rrset

from dnsworld import MISLEADING, World, Zone

__all__ = ["FORGED_ADDRESS", "MISLEADING", "mislead", "poison"]

FORGED_ADDRESS = "192.0.2.66"
TTL = 3600


def mislead(response: dns.message.Message, world: World, behaviour: str, zone: Zone, qname: dns.name.Name) -> None:
    """Fills ``response`` as the misleading server ``behaviour`` does, for ``qname`` in ``zone``."""
    if behaviour == "empty":
        return
    # astray: a zone below the one asked, beside the name; the others: the name itself, as if it were a zone.
    cut = dns.name.from_text("elsewhere", zone.origin) if behaviour == "astray" else qname
    ns_name = dns.name.from_text("ns", cut)
    decoy = next(address for address, role in world.behaviour.items() if role == "refused")
    response.authority.append(dns.rrset.from_text(cut, TTL, "IN", "NS", ns_name.to_text()))
    response.additional.append(dns.rrset.from_text(ns_name, TTL, "IN", "A", decoy))
    if behaviour == "nxref":  # a negative answer's rcode and SOA, but without AA, and NS records beside them
        response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(zone.soa)
    elif behaviour == "nonauth":
        response.answer.append(dns.rrset.from_text(qname, TTL, "IN", "A", FORGED_ADDRESS))


def poison(response: dns.message.Message, world: World) -> None:
    """Adds an A record for a name of the main zone: to an answer's answer section, to the additional section of
    a referral or a negative answer (where it follows the SOA)."""
    if response.flags & dns.flags.AA and response.answer:
        response.answer.append(dns.rrset.from_text(world.name("victim-answer"), TTL, "IN", "A", FORGED_ADDRESS))
    elif response.authority:
        response.additional.append(dns.rrset.from_text(world.name("victim-glue"), TTL, "IN", "A", FORGED_ADDRESS))
