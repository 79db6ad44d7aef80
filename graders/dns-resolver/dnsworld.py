"""The DNS hierarchy a run resolves: zones, delegations and server addresses, all drawn from the run's seed.

Two top-level domains hang under the root. Below them sit ordinary zones (glue in the referral), zones whose
name servers live in another zone without glue, and zones whose servers misbehave on purpose (silent, REFUSED,
SERVFAIL, a referral back up or to their own zone, replies that mislead, forged replies, records nobody asked
for, slow). ``World.resolve`` is the oracle: what a correct resolver must answer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

WORDS = (
    "alder", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "juniper", "kelp", "lumen",
    "maple", "nova", "onyx", "pine", "quartz", "river", "sage", "tundra", "umber", "vale", "willow", "yarrow",
)  # fmt: skip
TLDS = ("lab", "test", "kit", "corp", "home", "internal", "zone", "local")
MAX_CHAIN = 8
MISLEADING = ("astray", "nxref", "nonauth", "empty")  # servers whose replies look usable: see dnsmislead

Key = tuple[dns.name.Name, int]


@dataclass
class Zone:
    """One zone's authoritative data; ``cuts`` are its children's apexes (their NS and glue live here)."""

    origin: dns.name.Name
    records: dict[Key, dns.rrset.RRset] = field(default_factory=dict)
    cuts: set[dns.name.Name] = field(default_factory=set)

    def add(self, name: str | dns.name.Name, rdtype: str, ttl: int, *rdatas: str) -> dns.rrset.RRset:
        owner = name if isinstance(name, dns.name.Name) else dns.name.from_text(name)
        rrset = dns.rrset.from_text_list(owner, ttl, "IN", rdtype, list(rdatas))
        self.records[(owner, rrset.rdtype)] = rrset
        return rrset

    @property
    def soa(self) -> dns.rrset.RRset:
        return self.records[(self.origin, dns.rdatatype.SOA)]

    @property
    def negative_ttl(self) -> int:
        minimum: int = self.soa[0].minimum
        return min(self.soa.ttl, minimum)

    def cut_above(self, qname: dns.name.Name) -> dns.name.Name | None:
        """The child zone whose delegation covers ``qname``, if any."""
        return next((cut for cut in self.cuts if qname.is_subdomain(cut)), None)

    def has_name(self, qname: dns.name.Name) -> bool:
        """Whether ``qname`` owns records or has descendants that do (an empty non-terminal exists too)."""
        return any(owner.is_subdomain(qname) for owner, _ in self.records)


@dataclass(frozen=True)
class Resolution:
    """What a correct resolver answers: the rcode, the CNAME chain, the final records, the negative SOA."""

    rcode: dns.rcode.Rcode
    chain: tuple[dns.rrset.RRset, ...] = ()
    final: dns.rrset.RRset | None = None
    soa: dns.rrset.RRset | None = None
    negative_ttl: int = 0

    @property
    def answer(self) -> tuple[dns.rrset.RRset, ...]:
        return (*self.chain, self.final) if self.final is not None else self.chain


@dataclass
class World:
    """Every zone, which addresses serve which zones, and the names the stages ask about."""

    tlds: tuple[str, str]
    roots: tuple[str, ...]
    zones: dict[dns.name.Name, Zone]
    serving: dict[str, list[dns.name.Name]]  # address -> zones it is authoritative for
    zone_servers: dict[dns.name.Name, list[str]]  # zone -> its servers' addresses, in the order of its NS records
    behaviour: dict[str, str]  # address -> normal, silent, refused, servfail, lame, sideways, forge, slow, poison
    # or one of MISLEADING
    names: dict[str, str]  # role -> a fully qualified name the stages ask about

    def name(self, role: str) -> str:
        return self.names[role]

    def serving_of(self, zone: str) -> list[str]:
        """The addresses authoritative for ``zone``."""
        return self.zone_servers[dns.name.from_text(zone)]

    def ns_names(self, zone: str) -> list[str]:
        """The names of ``zone``'s name servers, lower case, in the order of its NS records."""
        origin = dns.name.from_text(zone)
        return [rdata.target.to_text().lower() for rdata in self.zones[origin].records[(origin, dns.rdatatype.NS)]]

    def zone_of(self, qname: dns.name.Name) -> Zone:
        """The zone holding ``qname``'s data: the deepest zone enclosing it."""
        enclosing = [zone for origin, zone in self.zones.items() if qname.is_subdomain(origin)]
        return max(enclosing, key=lambda zone: len(zone.origin))

    def resolve(self, name: str, rdtype: int) -> Resolution:
        """The oracle: follows CNAMEs across zones as a correct resolver must."""
        qname = dns.name.from_text(name)
        chain: list[dns.rrset.RRset] = []
        seen = {qname}
        while True:
            zone = self.zone_of(qname)
            cname = zone.records.get((qname, dns.rdatatype.CNAME))
            if cname is not None and rdtype != dns.rdatatype.CNAME:
                chain.append(cname)
                qname = cname[0].target
                if qname in seen or len(chain) > MAX_CHAIN:
                    return Resolution(dns.rcode.SERVFAIL)
                seen.add(qname)
                continue
            final = zone.records.get((qname, rdtype))
            if final is not None:
                return Resolution(dns.rcode.NOERROR, tuple(chain), final)
            rcode = dns.rcode.NOERROR if zone.has_name(qname) else dns.rcode.NXDOMAIN
            return Resolution(rcode, tuple(chain), soa=zone.soa, negative_ttl=zone.negative_ttl)


def long_name(zone: dns.name.Name, size: int) -> str:
    """A name of exactly ``size`` wire bytes below ``zone``, in labels of 63 bytes and one shorter one."""
    left = size - len(zone.to_wire() or b"")
    labels: list[str] = []
    while left > 0:
        length = min(63, left - 1)
        labels.append(chr(ord("a") + len(labels)) * length)
        left -= length + 1
    return ".".join(labels) + "." + zone.to_text()


class _Builder:
    """Draws the world from one ``random.Random``: labels, addresses, TTLs."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used_labels: set[str] = set()
        self.used_addresses: set[str] = set()

    def label(self, stem: str | None = None) -> str:
        while True:
            label = f"{stem or self.rng.choice(WORDS)}{self.rng.randrange(10, 1000)}"
            if label not in self.used_labels:
                self.used_labels.add(label)
                return label

    def server_address(self) -> str:
        while True:
            address = f"127.53.{self.rng.randrange(1, 255)}.{self.rng.randrange(1, 255)}"
            if address not in self.used_addresses:
                self.used_addresses.add(address)
                return address

    def host_address(self) -> str:
        return f"10.{self.rng.randrange(256)}.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"

    def ttl(self) -> int:
        return self.rng.randrange(120, 7200)


def build_world(seed: int) -> World:
    rng = random.Random(f"dns-resolver:{seed}")
    b = _Builder(rng)
    tld1, tld2 = rng.sample(TLDS, 2)
    roots = (b.server_address(), b.server_address())
    tld1_servers = (b.server_address(), b.server_address())
    tld2_server = b.server_address()
    auth, hoster = b.server_address(), b.server_address()
    silent = (b.server_address(), b.server_address(), b.server_address())
    refused, servfail, lame, forger, slow = (b.server_address() for _ in range(5))

    zones: dict[dns.name.Name, Zone] = {}
    serving: dict[str, list[dns.name.Name]] = {address: [] for address in sorted(b.used_addresses)}
    zone_servers: dict[dns.name.Name, list[str]] = {}
    names: dict[str, str] = {}

    def zone(origin: str, servers: list[str], *, soa_ttl: int, minimum: int) -> Zone:
        new = Zone(dns.name.from_text(origin))
        apex = "" if origin == "." else origin
        primary = f"ns1.{apex}" if apex else f"a.root.{tld1}."
        serial = rng.randrange(1, 10**6)
        new.add(origin, "SOA", soa_ttl, f"{primary} hostmaster.{apex} {serial} 7200 900 86400 {minimum}")
        zones[new.origin] = new
        zone_servers[new.origin] = servers
        for address in servers:
            serving[address].append(new.origin)
        return new

    def delegate(parent: Zone, child: Zone, ns_names: list[str], glue: dict[str, str]) -> None:
        """NS records in both parent and child; glue (name -> address) in the parent, only for in-zone names."""
        ttl = b.ttl()
        parent.add(child.origin, "NS", ttl, *ns_names)
        child.add(child.origin, "NS", ttl, *ns_names)
        parent.cuts.add(child.origin)
        for ns_name, address in glue.items():
            parent.add(ns_name, "A", b.ttl(), address)

    root = zone(".", list(roots), soa_ttl=86400, minimum=3600)
    root.add(".", "NS", 518400, f"a.root.{tld1}.", f"b.root.{tld1}.")
    top1 = zone(f"{tld1}.", list(tld1_servers), soa_ttl=3600, minimum=900)
    top2 = zone(f"{tld2}.", [tld2_server], soa_ttl=3600, minimum=900)
    delegate(
        root,
        top1,
        [f"ns1.nic.{tld1}.", f"ns2.nic.{tld1}."],
        dict(zip((f"ns1.nic.{tld1}.", f"ns2.nic.{tld1}."), tld1_servers, strict=True)),
    )
    delegate(root, top2, [f"ns.nic.{tld2}."], {f"ns.nic.{tld2}.": tld2_server})

    def child(parent: Zone, servers: list[str], *, soa_ttl: int = 3600, minimum: int = 60, glue: bool = True) -> Zone:
        origin = f"{b.label()}.{parent.origin}"
        new = zone(origin, servers, soa_ttl=soa_ttl, minimum=minimum)
        ns_names = [f"ns{n}.{origin}" for n in range(1, len(servers) + 1)]
        delegate(parent, new, ns_names, dict(zip(ns_names, servers, strict=True)) if glue else {})
        for ns_name, address in zip(ns_names, servers, strict=True):
            new.add(ns_name, "A", b.ttl(), address)
        return new

    def add_server(parent: Zone, target: Zone, address: str, position: int) -> None:
        """One more server for ``target``: its NS name at ``position`` in the NS records of both zones, glue."""
        ns_name = f"ns{len(zone_servers[target.origin]) + 1}.{target.origin}"
        for holder in (parent, target):
            ns = holder.records[(target.origin, dns.rdatatype.NS)]
            ns_names = [rdata.target.to_text() for rdata in ns]
            ns_names.insert(position, ns_name)
            holder.add(target.origin, "NS", ns.ttl, *ns_names)
            holder.add(ns_name, "A", b.ttl(), address)
        zone_servers[target.origin].insert(position, address)
        serving[address].append(target.origin)

    # The hoster serves other zones' name servers, reached only by resolving its names (no glue for them).
    host = child(top1, [hoster])
    hoster_ns = f"ns1.{host.origin}"

    def glueless(parent: Zone) -> Zone:
        origin = f"{b.label()}.{parent.origin}"
        new = zone(origin, [hoster], soa_ttl=rng.randrange(20, 50), minimum=600)  # negative TTL: the SOA's TTL
        delegate(parent, new, [hoster_ns], {})
        return new

    main = child(top1, [auth], minimum=rng.randrange(30, 90))  # negative TTL: MINIMUM
    remote = glueless(top2)  # its NS lives in another TLD
    sibling = glueless(top1)  # its NS lives in the same TLD, another zone
    big = child(top2, [auth])
    brief = child(top1, [auth], minimum=1)
    flaky = child(top1, [silent[0], auth])
    choosy = child(top2, [refused, servfail, lame, auth])
    forged = child(top1, [forger])
    dead = child(top2, [silent[1], silent[2]])
    slowed = child(top2, [slow])

    def hosts(target: Zone, role: str, count: int = 1, rdtype: str = "A", stem: str | None = None) -> str:
        name = f"{b.label(stem or role)}.{target.origin}"
        values = {b.host_address() for _ in range(count)} if rdtype == "A" else set()
        if rdtype == "AAAA":
            values = {f"fd00:{rng.randrange(1, 0xFFFF):x}::{rng.randrange(1, 0xFFFF):x}" for _ in range(count)}
        target.add(name, rdtype, b.ttl(), *sorted(values))
        names[role] = name
        return name

    hosts(main, "www", 3)
    hosts(main, "solo")
    hosts(main, "v6host", 2, "AAAA")
    hosts(remote, "far", 2)
    hosts(sibling, "near", 1)
    main.add(f"mail.{main.origin}", "A", b.ttl(), b.host_address())
    names["mx"] = f"mx.{main.origin}"
    main.add(names["mx"], "MX", b.ttl(), f"10 mail.{main.origin}", f"20 {names['far']}")
    names["txt"] = f"{b.label('notes')}.{main.origin}"
    main.add(names["txt"], "TXT", b.ttl(), f'"v=lab1 seed={rng.randrange(10**6)}"', '"second string" "third"')
    names["main"], names["remote"], names["sibling"] = str(main.origin), str(remote.origin), str(sibling.origin)
    names["apex"] = str(brief.origin)  # asked for its own records: its parent's referral is to the name itself
    names["nodata-leaf"] = names["solo"]  # exists, has no AAAA
    names["ent"] = f"{b.label('branch')}.{main.origin}"  # an empty non-terminal: only a name below it exists
    main.add(f"leaf.{names['ent']}", "A", b.ttl(), b.host_address())
    names["nx-main"] = f"{b.label('missing')}.{main.origin}"
    names["nx-remote"] = f"{b.label('absent')}.{remote.origin}"
    names["nodata-remote"] = names["far"]

    # CNAMEs: one hop across TLDs, a chain of three through three zones, a loop, a chain into NXDOMAIN.
    def cname(owner_zone: Zone, role: str, target: str) -> str:
        name = f"{b.label(role)}.{owner_zone.origin}"
        owner_zone.add(name, "CNAME", b.ttl(), target)
        names[role] = name
        return name

    cname(main, "alias", names["far"])
    hop3 = cname(remote, "hop3", names["near"])
    hop2 = cname(sibling, "hop2", hop3)
    cname(main, "hop1", hop2)
    loop_b = f"{b.label('loopb')}.{remote.origin}"
    loop_a = cname(main, "loopa", loop_b)
    remote.add(loop_b, "CNAME", b.ttl(), loop_a)
    cname(main, "dangling", f"{b.label('gone')}.{remote.origin}")

    # Truncation: replies of exactly 512 and 513 bytes (question name + 4, then four TXT records), and a large one.
    for role, size in (("fit512", 512), ("over512", 513)):
        name = f"{b.label(role)}.{big.origin}"
        total = size - 16 - len(dns.name.from_text(name).to_wire() or b"") - 4 * 13
        lengths = [total // 4 + (1 if n < total % 4 else 0) for n in range(4)]
        big.add(name, "TXT", b.ttl(), *(f'"{chr(ord("a") + n) * length}"' for n, length in enumerate(lengths)))
        names[role] = name
    names["large"] = f"{b.label('large')}.{big.origin}"
    big.add(names["large"], "TXT", b.ttl(), *(f'"{n}{"x" * 180}"' for n in range(5)))

    # Cache: a long TTL to watch count down, one-second records and negative answers to watch expire.
    names["long"] = f"{b.label('long')}.{main.origin}"
    main.add(names["long"], "A", 3600, b.host_address())
    names["brief"] = f"{b.label('brief')}.{brief.origin}"
    brief.add(names["brief"], "A", 1, b.host_address())
    names["nx-brief"] = f"{b.label('void')}.{brief.origin}"
    for role, target in (("flaky", flaky), ("choosy", choosy), ("forged", forged), ("dead", dead), ("slow", slowed)):
        hosts(target, role, 2)
    hosts(slowed, "slow2", 1)
    for n in range(24):
        hosts(main if n % 2 else remote, f"many{n}", stem="node")

    # The chain limit on both sides: 8 CNAMEs are followed, 9 are SERVFAIL (drawn last: earlier names keep theirs).
    for role, length in (("chain8", MAX_CHAIN), ("chain9", MAX_CHAIN + 1)):
        head = names["solo"]
        for hop in range(length):
            head = cname(main if hop % 2 else remote, role, head)  # the last one made is the chain's head
    # An MX reached through a CNAME: the reply's question is not the MX's owner, so names in its data that were
    # compressed upstream point elsewhere in the resolver's reply unless it expands them.
    cname(remote, "mxalias", names["mx"])

    # A server that refers to its own zone, not below it, placed before the choosy zone's one good server. Drawn
    # last, so every earlier name and address keeps its draw.
    sideways = b.server_address()
    serving[sideways] = []
    add_server(top2, choosy, sideways, position=len(zone_servers[choosy.origin]) - 1)

    # A name of 250 bytes: its zone's referral puts the NS names past offset 255, so the glue's owner names are
    # compressed with pointers that need all 14 bits.
    names["deep"] = long_name(big.origin, 250)
    big.add(names["deep"], "A", b.ttl(), b.host_address())

    # Servers that reply without refusing, yet have failed (README "Walking down": anything else): each is one
    # more server of the choosy zone, before its good one. See dnsmislead.
    misleading = {}
    for role in MISLEADING:
        address = b.server_address()
        serving[address] = []
        add_server(top2, choosy, address, position=len(zone_servers[choosy.origin]) - 1)
        misleading[address] = role

    # A server that adds records nobody asked for, aimed at two names of the main zone: to its answers, and to
    # its referrals to its child zone (see dnsmislead.poison).
    poisoner = b.server_address()
    serving[poisoner] = []
    lure = child(top1, [poisoner])
    hosts(lure, "lured")
    names["nx-lured"] = f"{b.label('nowhere')}.{lure.origin}"
    hosts(child(lure, [auth]), "lured-deep")
    hosts(main, "victim-answer", stem="target")
    hosts(main, "victim-glue", stem="target")

    # A zone whose first three name servers, glueless, have no address: NXDOMAIN, NODATA for A, and a name whose
    # resolution fails (its zone's one server refuses); the fourth is the hoster's.
    halfway = zone(f"{b.label()}.{top2.origin}", [hoster], soa_ttl=3600, minimum=60)
    refusing = child(top2, [refused])
    no_address = [f"{b.label('gone')}.{host.origin}", f"{b.label('noaddr')}.{host.origin}"]
    no_address.append(f"{b.label('unreachable')}.{refusing.origin}")
    host.add(no_address[1], "TXT", b.ttl(), '"no address here"')
    delegate(top2, halfway, [*no_address, hoster_ns], {})
    hosts(halfway, "halfway")

    behaviour = {address: "normal" for address in serving}
    behaviour.update({silent[0]: "silent", silent[1]: "silent", silent[2]: "silent"})
    behaviour.update({refused: "refused", servfail: "servfail", lame: "lame", forger: "forge", slow: "slow"})
    behaviour[sideways] = "sideways"
    behaviour.update(misleading)
    behaviour[poisoner] = "poison"
    return World((tld1, tld2), roots, zones, serving, zone_servers, behaviour, names)
