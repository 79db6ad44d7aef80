"""The udp-reliable spec stays true to itself: every datagram of the README's worked example is byte-exact, the
readiness probe is the one lab.toml sends, and the grader's own implementation of the README (the throughput
yardstick), fed the example's datagrams, answers exactly as the example shows."""

from __future__ import annotations

import re
import sys
import tomllib
import zlib
from collections.abc import Iterator
from types import ModuleType

import pytest

from support import KIT

LAB = KIT / "labs" / "udp-reliable"
GRADER = KIT / "graders" / "udp-reliable"
HELPERS = ("segments", "reference", "link", "as_sender")
HEX_LINE = re.compile(r"^ {10,}((?:[0-9a-f]{2} )*[0-9a-f]{2})\s*$")


@pytest.fixture(scope="module")
def grader() -> Iterator[tuple[ModuleType, ModuleType]]:
    """The lab's helper modules, imported as its stages import them, and forgotten afterwards."""
    sys.path.insert(0, str(GRADER))
    try:
        import reference
        import segments

        yield segments, reference
    finally:
        sys.path.remove(str(GRADER))
        for name in HELPERS:
            sys.modules.pop(name, None)


def worked_example() -> list[bytes]:
    readme = (LAB / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Worked example", 1)[1].split("## Stages", 1)[0]
    return [bytes.fromhex(match[1]) for line in section.splitlines() if (match := HEX_LINE.match(line))]


def test_every_datagram_of_the_worked_example_is_valid(grader: tuple[ModuleType, ModuleType]) -> None:
    segments, _ = grader
    datagrams = worked_example()
    assert len(datagrams) == 10  # the probe and its answer, then four segments each way
    assert all(segments.decode(datagram) is not None for datagram in datagrams)


def test_the_probe_is_the_one_lab_toml_sends(grader: tuple[ModuleType, ModuleType]) -> None:
    segments, _ = grader
    probe_hex = tomllib.loads((LAB / "lab.toml").read_text(encoding="utf-8"))["run"]["ready_probe_hex"]
    assert bytes.fromhex(probe_hex) == segments.PROBE == worked_example()[0]
    assert zlib.crc32(bytes(16)) == 0xECBB4B55  # the README's example of the checksum


def test_the_reference_receiver_answers_as_the_example_shows(grader: tuple[ModuleType, ModuleType]) -> None:
    segments, reference = grader
    datagrams = worked_example()
    receiver = reference.ReferenceReceiver(window=3000)
    sent, answers = datagrams[0::2], datagrams[1::2]
    for datagram, answer in zip(sent, answers, strict=True):
        assert receiver.on_segment(segments.decode(datagram)).encode() == answer
    assert bytes(receiver.delivered) == b"hello udp!"


def test_the_reference_sender_wraps_around_as_the_example_shows(grader: tuple[ModuleType, ModuleType]) -> None:
    segments, reference = grader
    datagrams = worked_example()
    sender = reference.ReferenceSender(b"hello udp!", isn=4294967290, rto_ms=200)
    assert [segment.encode() for segment in sender.new_segments(0.0)] == [datagrams[2]]
    sender.on_ack(segments.decode(datagrams[3]), 0.0)
    data, fin = sender.new_segments(0.0)
    assert (data.seqno, data.payload, fin.seqno, fin.flags) == (4294967291, b"hello udp!", 5, segments.FIN)
    sender.on_ack(segments.decode(datagrams[9]), 0.0)
    assert sender.done
