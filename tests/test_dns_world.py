"""The dns-resolver grader's own servers behave as its README promises: the checks rest on that.

Real sockets on 127.53.x.y, dnspython as the client: sizes around the 512-byte limit, NS order, glue only
inside the delegated zone, forged replies ahead of the real one, both sides of the negative-TTL minimum, and
one seed giving one world.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "graders" / "dns-resolver"))

from dnsmislead import FORGED_ADDRESS
from dnsupstream import Upstream
from dnsworld import MISLEADING, World, build_world

SEED = 424242


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SEED)


@pytest.fixture(scope="module")
def upstream(world: World) -> Iterator[Upstream]:
    servers = Upstream(world)
    yield servers
    servers.close()


def ask(
    upstream: Upstream, address: str, name: str, rdtype: str, *, tcp: bool = False, timeout: float = 5.0
) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    query.flags &= ~dns.flags.RD
    if tcp:
        return dns.query.tcp(query, address, port=upstream.port, timeout=timeout)
    return dns.query.udp(query, address, port=upstream.port, timeout=timeout)


def authority_of(world: World, role: str) -> str:
    return world.serving_of(world.name(role).split(".", 1)[1])[0]


def test_the_same_seed_builds_the_same_world() -> None:
    assert build_world(SEED).names == build_world(SEED).names
    assert build_world(SEED).roots == build_world(SEED).roots
    assert build_world(SEED + 1).names != build_world(SEED).names


def test_udp_replies_stop_at_512_bytes_and_tcp_replies_do_not(world: World, upstream: Upstream) -> None:
    server = authority_of(world, "fit512")
    whole = ask(upstream, server, world.name("fit512"), "TXT")
    assert not whole.flags & dns.flags.TC
    assert len(whole.to_wire()) == 512
    cut = ask(upstream, server, world.name("over512"), "TXT")
    assert cut.flags & dns.flags.TC and not cut.answer
    over_tcp = ask(upstream, server, world.name("over512"), "TXT", tcp=True)
    assert len(over_tcp.to_wire()) == 513 and not over_tcp.flags & dns.flags.TC
    assert [entry.transport for entry in upstream.log.snapshot()[-3:]] == ["udp", "udp", "tcp"]


def test_referrals_keep_the_ns_order_and_carry_glue_only_inside_the_zone(world: World, upstream: Upstream) -> None:
    tld = dns.name.from_text(f"{world.tlds[1]}.")
    tld_server = world.serving_of(tld.to_text())[0]
    choosy = dns.name.from_text(world.name("choosy")).parent()
    in_world = [rdata.target.to_text() for rdata in world.zones[tld].records[(choosy, dns.rdatatype.NS)]]
    assert len(in_world) == 9
    for _ in range(5):  # dnspython shuffles record sets unless told not to
        referral = ask(upstream, tld_server, world.name("choosy"), "A")
        targets = [rdata.target.to_text() for rdata in referral.authority[0]]
        assert targets == in_world, "the order in which servers must be tried"
        glue = {rrset.name.to_text(): rrset[0].address for rrset in referral.additional}
        assert [glue[target] for target in targets] == world.serving_of(choosy.to_text())
    glueless = ask(upstream, tld_server, world.name("far"), "A")
    assert glueless.authority and not glueless.additional and not glueless.flags & dns.flags.AA


def test_the_long_name_s_referral_has_a_pointer_past_offset_255(world: World, upstream: Upstream) -> None:
    tld_server = world.serving_of(f"{world.tlds[1]}.")[0]
    query = dns.message.make_query(world.name("deep"), "A")
    query.flags &= ~dns.flags.RD
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(query.to_wire(), (tld_server, upstream.port))
        wire, _ = sock.recvfrom(65535)
    referral = dns.message.from_wire(wire)
    assert referral.authority and referral.additional and not referral.flags & dns.flags.AA
    glue = wire[-16:]  # the last record, the glue: its owner as a pointer, TYPE A, CLASS IN, TTL, 4, address
    assert glue[2:6] == b"\x00\x01\x00\x01" and glue[10:12] == b"\x00\x04"
    pointer = int.from_bytes(glue[:2], "big")
    assert pointer >> 14 == 0b11 and pointer & 0x3FFF > 255


def test_a_forging_server_sends_five_forgeries_before_the_real_reply(world: World, upstream: Upstream) -> None:
    query = dns.message.make_query(world.name("forged"), "A")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(query.to_wire(), (authority_of(world, "forged"), upstream.port))
        replies = [sock.recvfrom(65535) for _ in range(6)]
    cut, _ = replies.pop(-2)  # the first 11 bytes of a reply: no message
    assert len(cut) == 11 and cut[:2] == query.id.to_bytes(2, "big")
    messages = [(dns.message.from_wire(data), source[0]) for data, source in replies]
    real, real_source = messages[-1]
    assert real.id == query.id and real_source == authority_of(world, "forged")
    assert FORGED_ADDRESS not in real.answer[0].to_text()
    for forged, source in messages[:-1]:
        wrong = (
            forged.id != query.id,
            source != real_source,
            forged.question[0].name != real.question[0].name,
            not forged.flags & dns.flags.QR,
        )
        assert sum(wrong) == 1 and FORGED_ADDRESS in forged.answer[0].to_text()


def test_negative_ttls_fall_on_both_sides_of_the_minimum(world: World) -> None:
    below_minimum = world.resolve(world.name("nx-remote"), dns.rdatatype.TXT)
    below_soa_ttl = world.resolve(world.name("nx-main"), dns.rdatatype.A)
    assert below_minimum.rcode == below_soa_ttl.rcode == dns.rcode.NXDOMAIN
    assert below_minimum.soa is not None and below_soa_ttl.soa is not None
    assert below_minimum.negative_ttl == below_minimum.soa.ttl < below_minimum.soa[0].minimum
    assert below_soa_ttl.negative_ttl == below_soa_ttl.soa[0].minimum < below_soa_ttl.soa.ttl


def test_misbehaving_servers_answer_as_their_role_says(world: World, upstream: Upstream) -> None:
    choosy = world.serving_of(world.name("choosy").split(".", 1)[1])
    rcodes = [ask(upstream, address, world.name("choosy"), "A").rcode() for address in choosy[:2]]
    assert rcodes == [dns.rcode.REFUSED, dns.rcode.SERVFAIL]
    lame = ask(upstream, choosy[2], world.name("choosy"), "A")
    assert lame.authority[0].name == dns.name.from_text(f"{world.tlds[1]}.")
    sideways = ask(upstream, choosy[3], world.name("choosy"), "A")
    assert sideways.authority[0].name == dns.name.from_text(world.name("choosy")).parent()
    assert not sideways.flags & dns.flags.AA and not sideways.answer
    assert ask(upstream, choosy[-1], world.name("choosy"), "A").flags & dns.flags.AA
    with pytest.raises(dns.exception.Timeout):
        ask(upstream, world.serving_of(world.name("dead").split(".", 1)[1])[0], world.name("dead"), "A", timeout=0.5)


def test_misleading_servers_refer_to_the_refusing_server(world: World, upstream: Upstream) -> None:
    name = dns.name.from_text(world.name("choosy"))
    refusing = world.serving_of(name.parent().to_text())[0]
    replies = {
        world.behaviour[address]: ask(upstream, address, name.to_text(), "A")
        for address in world.serving_of(name.parent().to_text())
        if world.behaviour[address] in MISLEADING
    }
    assert sorted(replies) == sorted(MISLEADING)
    for role, reply in replies.items():
        assert not reply.flags & dns.flags.AA, role
    empty = replies.pop("empty")
    assert empty.rcode() == dns.rcode.NOERROR and not (empty.answer or empty.authority or empty.additional)
    astray = replies["astray"].authority[0].name
    assert astray.parent() == name.parent() and not name.is_subdomain(astray)
    assert replies["nxref"].rcode() == dns.rcode.NXDOMAIN and replies["nxref"].authority[0].name == name
    assert replies["nonauth"].answer[0][0].address == FORGED_ADDRESS and replies["nonauth"].authority[0].name == name
    for reply in replies.values():
        assert reply.additional[0][0].address == refusing


def test_the_poisoner_adds_a_record_nobody_asked_for(world: World, upstream: Upstream) -> None:
    poisoner = authority_of(world, "lured")
    answer = ask(upstream, poisoner, world.name("lured"), "A")
    assert answer.flags & dns.flags.AA
    assert [rrset.name.to_text() for rrset in answer.answer] == [world.name("lured"), world.name("victim-answer")]
    referral = ask(upstream, poisoner, world.name("lured-deep"), "A")
    assert not referral.flags & dns.flags.AA and not referral.answer
    assert referral.additional[-1].name.to_text() == world.name("victim-glue")
    assert referral.additional[-1][0].address == FORGED_ADDRESS
    negative = ask(upstream, poisoner, world.name("nx-lured"), "A")
    assert negative.rcode() == dns.rcode.NXDOMAIN and negative.authority[0].rdtype == dns.rdatatype.SOA
    assert negative.additional[0].name.to_text() == world.name("victim-glue")
    assert world.resolve(world.name("victim-glue"), dns.rdatatype.A).final is not None
    chaos = dns.message.make_query(world.name("lured"), "A", rdclass="CH")
    assert dns.query.udp(chaos, poisoner, port=upstream.port, timeout=5).rcode() == dns.rcode.REFUSED


def test_the_halfway_zone_s_first_name_servers_have_no_address(world: World, upstream: Upstream) -> None:
    gone, no_address, unreachable, hoster = world.ns_names(world.name("halfway").split(".", 1)[1])
    assert world.resolve(gone, dns.rdatatype.A).rcode == dns.rcode.NXDOMAIN
    nodata = world.resolve(no_address, dns.rdatatype.A)
    assert nodata.rcode == dns.rcode.NOERROR and nodata.final is None
    refusing = world.serving_of(unreachable.split(".", 1)[1])
    assert [world.behaviour[address] for address in refusing] == ["refused"]
    assert ask(upstream, refusing[0], unreachable, "A").rcode() == dns.rcode.REFUSED
    assert world.resolve(hoster, dns.rdatatype.A).final is not None
