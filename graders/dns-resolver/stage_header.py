"""Stage 1: every reply's header and question, whatever the outcome of resolution."""

import struct

import dns.flags
import dns.opcode
import dns.rcode

from dnsstub import expect_reply_header, query_wire, strict
from labkit.checks import expect, fail


def check_id_is_copied(stub, world, rng):
    """The reply carries the query's ID, for IDs across the 16-bit range"""
    for ident in [0, 0xFFFF, *(rng.randrange(1, 0xFFFF) for _ in range(4))]:
        stub.ask(world.name("www"), "A", ident=ident)


def check_rd_is_copied(stub, world, rng):
    """RD is copied from the query, 0 and 1; QR and RA are set, AA and Z are 0"""
    for rd in (False, True, False):
        stub.ask(world.name("solo"), "A", ident=rng.randrange(0x10000), rd=rd)


def check_question_is_copied_with_its_letter_case(stub, world, rng):
    """The question comes back byte for byte, in the letter case the client wrote"""
    for role, rdtype in (("www", "A"), ("txt", "TXT"), ("nx-main", "MX")):
        name = "".join(c.upper() if rng.random() < 0.5 else c for c in world.name(role))
        stub.ask(name, rdtype, ident=rng.randrange(0x10000))


def check_other_flag_bits_are_ignored(stub, world, rng):
    """AA, TC, RA, Z, AD, CD and RCODE bits set in a query change nothing: it is answered, RD copied"""
    plain = stub.ask(world.name("solo"), "A", ident=rng.randrange(0x10000)).rcode  # resolution is judged later
    extras = ((0x0400, True), (0x0200, False), (0x0070, True), (0x0620, False), (0x0081, True), (0x000E, False))
    for extra, rd in extras:
        ident = rng.randrange(0x10000)
        wire = bytearray(query_wire(world.name("solo"), "A", ident=ident, rd=rd))
        wire[2:4] = (int.from_bytes(wire[2:4], "big") | extra).to_bytes(2, "big")
        what = f"a query with the flags {bytes(wire[2:4]).hex()}"
        reply = strict(stub.exchange_udp(bytes(wire), what), what)
        expect_reply_header(reply, what, ident=ident, rd=rd, opcode=dns.opcode.QUERY)
        expect(
            reply.rcode == plain and not reply.flag(dns.flags.TC),
            f"{what} got {dns.rcode.to_text(reply.rcode)}{' with TC=1' if reply.flag(dns.flags.TC) else ''}, "
            f"the same question with only RD set got {dns.rcode.to_text(plain)}",
            hint="only QR, OPCODE and RD of the query matter; ignore its other flag bits",
        )


def check_other_opcodes_get_notimp(stub, world, rng):
    """OPCODE 1, 2, 5 and 8 get NOTIMP, header only, with ID, OPCODE and RD copied"""
    for opcode in (1, 2, 5, 8):  # 8: the field's top bit
        ident = rng.randrange(0x10000)
        wire = bytearray(query_wire(world.name("www"), "A", ident=ident))
        wire[2] = (wire[2] & 0x87) | (opcode << 3)
        what = f"a query with OPCODE {opcode}"
        reply = strict(stub.exchange_udp(bytes(wire), what), what)
        expect_reply_header(reply, what, ident=ident, rd=True, opcode=dns.opcode.Opcode(opcode))
        if reply.rcode != dns.rcode.NOTIMP:
            fail(f"the reply to {what} is not NOTIMP", expected="NOTIMP (4)", got=dns.rcode.to_text(reply.rcode))
        counts = struct.unpack_from(">4H", reply.wire, 4)
        expect(
            counts == (0, 0, 0, 0),
            f"the NOTIMP reply to {what} must be a header only, but its counts are {counts}",
            hint="NOTIMP and FORMERR replies are the 12-byte header with every count 0",
        )


def check_counts_match_sections_with_and_without_opt(stub, world, rng):
    """Counts match the sections, with and without an OPT record in the query; replies carry no OPT"""
    for payload in (None, 1232, None, 4096):
        for role in ("www", "nx-main"):
            what = f"{world.name(role)} A{' with an OPT record' if payload else ''}"
            reply = stub.ask(world.name(role), "A", ident=rng.randrange(0x10000), payload=payload)
            expect(
                reply.message.edns < 0,
                f"the reply to {what} carries an OPT record",
                hint="replies never carry an OPT record: ARCOUNT counts only what you put in the additional section",
            )
