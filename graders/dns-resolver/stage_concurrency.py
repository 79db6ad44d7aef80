"""Stage 9: a slow zone delays no one else, over UDP and TCP; many questions at once are all answered."""

import select
import socket
import struct
import time

import dns.rdatatype

from dnsexpect import expect_resolution
from dnsstub import REPLY_S, query_wire, strict
from labkit.checks import fail, log
from labkit.ports import LOOPBACK


def open_udp(port, wire):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((LOOPBACK, port))
    sock.send(wire)
    return sock


def open_tcp(port, wire):
    sock = socket.create_connection((LOOPBACK, port), timeout=REPLY_S)
    sock.sendall(struct.pack(">H", len(wire)) + wire)
    return sock


def read_reply(sock):
    if sock.type == socket.SOCK_DGRAM:
        return sock.recv(65535)
    data = b""
    while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
        chunk = sock.recv(65535)
        if not chunk:
            return data[2:]
        data += chunk
    return data[2:]


def gather(socks):
    """Each socket's reply in arrival order, as (index, wire), and the indexes that got none in time."""
    arrived, pending = [], dict(enumerate(socks))
    deadline = time.monotonic() + REPLY_S
    while pending and (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select(list(pending.values()), [], [], left)
        for sock in ready:
            index = next(i for i, s in pending.items() if s is sock)
            arrived.append((index, read_reply(sock)))
            del pending[index]
    for sock in socks:
        sock.close()
    return arrived, sorted(pending)


def expect_all_arrived(missing, names):
    if missing:
        fail(
            f"{len(missing)} of {len(names)} queries sent at once got no reply within {REPLY_S:g} s",
            got=", ".join(names[index] for index in missing),
            hint="resolve each query concurrently (a thread, a task), over UDP and over TCP",
        )


def check_slow_zone_does_not_delay_others(stub, world, rng):
    """Questions for fast zones sent after two for the slow zone are answered first, over UDP and TCP"""
    for role in ("many0", "many1"):  # the fast zones' servers are now known: their answers take one round trip
        stub.ask(world.name(role), "A", ident=rng.randrange(0x10000))
    asked = [("slow", open_udp), ("slow2", open_tcp), ("many2", open_udp), ("many3", open_udp)]
    asked += [("many5", open_tcp), ("many6", open_tcp)]
    names = [f"{world.name(role)} over {'UDP' if opener is open_udp else 'TCP'}" for role, opener in asked]
    idents = rng.sample(range(0x10000), len(asked))
    socks = [
        opener(stub.port, query_wire(world.name(role), "A", ident=ident))
        for (role, opener), ident in zip(asked, idents, strict=True)
    ]
    arrived, missing = gather(socks)
    order = [index for index, _ in arrived]
    log(f"replies arrived in this order: {[names[index] for index in order]}")
    first_slow = min((position for position, index in enumerate(order) if index < 2), default=len(order))
    held = [names[index] for index in range(2, len(asked)) if index in missing or index in order[first_slow:]]
    if held:
        transports = sorted({name.rsplit(" ", 1)[1] for name in held}, reverse=True)
        fail(
            f"questions for the slow zone held up others over {' and '.join(transports)}",
            expected="every fast name answered before the two slow ones",
            got=f"held up: {', '.join(held)}; replies in this order: "
            + (", ".join(names[index] for index in order) or "none"),
            hint="resolve each query concurrently (a thread, a task) so a slow server blocks only its own",
        )
    expect_all_arrived(missing, names)
    for index, wire in arrived:
        name = world.name(asked[index][0])
        expect_resolution(strict(wire, names[index]), world.resolve(name, dns.rdatatype.A), f"{names[index]} A")


def check_twenty_questions_at_once(stub, world, rng):
    """Twenty questions sent at once are all answered correctly"""
    names = [world.name(f"many{n}") for n in range(4, 24)]
    idents = rng.sample(range(0x10000), len(names))
    socks = [open_udp(stub.port, query_wire(name, "A", ident=ident)) for name, ident in zip(names, idents, strict=True)]
    arrived, missing = gather(socks)
    expect_all_arrived(missing, names)
    for index, wire in arrived:
        reply = strict(wire, names[index])
        if reply.message.id != idents[index]:
            fail(f"the reply to {names[index]} carries ID {reply.message.id}, not {idents[index]}")
        expect_resolution(reply, world.resolve(names[index], dns.rdatatype.A), f"{names[index]} A")
