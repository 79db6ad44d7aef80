"""The lab's segment format (README "Segments"): encoding, strict decoding and words for transcripts.

Sequence numbers are handled as *offsets* from the ISN (0 the SYN, 1 + i the stream's byte i, N + 1 the FIN)
everywhere in the grader; they become 32-bit numbers only on the wire, through :func:`wire` and :func:`offset`.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

HEADER = struct.Struct(">IIBBHI")  # seqno, ackno, flags, reserved, window, checksum
SYN, ACK, FIN = 0x01, 0x02, 0x04
MAX_PAYLOAD = 1000
MOD = 2**32


@dataclass(frozen=True)
class Segment:
    seqno: int = 0
    ackno: int = 0
    flags: int = 0
    window: int = 0
    payload: bytes = b""
    reserved: int = 0

    def encode(self) -> bytes:
        head = HEADER.pack(self.seqno, self.ackno, self.flags, self.reserved, self.window, 0)
        checksum = zlib.crc32(head + self.payload)
        return HEADER.pack(self.seqno, self.ackno, self.flags, self.reserved, self.window, checksum) + self.payload

    @property
    def length(self) -> int:
        """Its length in sequence space: 1 for a SYN or a FIN, the payload's length otherwise."""
        return len(self.payload) + (1 if self.flags & (SYN | FIN) else 0)

    def describe(self, isn: int | None = None) -> str:
        """One line for a transcript; with ``isn``, sequence numbers are also shown as stream offsets."""
        parts = [flag_names(self.flags)]
        if self.flags & ACK:
            parts.append(f"ackno={self.ackno}{_relative(self.ackno, isn)} window={self.window}")
        else:
            parts.append(f"seqno={self.seqno}{_relative(self.seqno, isn)}")
        if self.payload:
            parts.append(f"{len(self.payload)} bytes")
        return " ".join(parts)


PROBE = Segment().encode()  # the readiness probe: a valid segment with every field 0


def _relative(number: int, isn: int | None) -> str:
    return "" if isn is None else f" (ISN+{offset(number, isn)})"


def flag_names(flags: int) -> str:
    names = [name for bit, name in ((SYN, "SYN"), (ACK, "ACK"), (FIN, "FIN")) if flags & bit]
    if flags & ~(SYN | ACK | FIN):
        names.append(f"0x{flags & ~(SYN | ACK | FIN):02x}")
    return "|".join(names) or "data"


def checksum_matches(datagram: bytes) -> bool:
    if len(datagram) < HEADER.size:
        return False
    expected = zlib.crc32(datagram[:12] + b"\0\0\0\0" + datagram[16:])
    return expected == int.from_bytes(datagram[12:16], "big")


def decode(datagram: bytes) -> Segment | None:
    """The segment, or None for an invalid datagram (shorter than the header, or a checksum that does not match)."""
    if not checksum_matches(datagram):
        return None
    seqno, ackno, flags, reserved, window, _ = HEADER.unpack_from(datagram)
    return Segment(seqno, ackno, flags, window, datagram[HEADER.size :], reserved)


def offset(number: int, isn: int) -> int:
    """A 32-bit sequence number as an offset from the ISN."""
    return (number - isn) % MOD


def wire(position: int, isn: int) -> int:
    """An offset from the ISN as the 32-bit sequence number on the wire."""
    return (isn + position) % MOD


def sender_segment_problem(segment: Segment) -> str | None:
    """What makes ``segment`` something the README's sender never sends, if anything."""
    kind = segment.flags & ~ACK
    if segment.flags not in (0, SYN, FIN):
        return f"flags {flag_names(segment.flags)}: a sender sends SYN, FIN or 0 (data), nothing else"
    if segment.ackno or segment.window or segment.reserved:
        return "ackno, window and the reserved byte are 0 in the sender's segments"
    if kind in (SYN, FIN) and segment.payload:
        return f"a {flag_names(kind)} carries no payload, this one has {len(segment.payload)} bytes"
    if kind == 0 and not 1 <= len(segment.payload) <= MAX_PAYLOAD:
        return f"a data segment carries 1 to {MAX_PAYLOAD} bytes, this one {len(segment.payload)}"
    return None


def receiver_segment_problem(segment: Segment, window: int) -> str | None:
    """What makes ``segment`` something other than the README's acknowledgement, if anything."""
    if segment.flags != ACK:
        return f"flags {flag_names(segment.flags)}: an acknowledgement has the ACK flag (0x02) only"
    if segment.seqno or segment.reserved or segment.payload:
        return "seqno and the reserved byte are 0 in an acknowledgement, and it carries no payload"
    if segment.window != window:
        return f"window {segment.window}: the receiver always advertises WINDOW={window}"
    return None
