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
    """Each socket's reply, in arrival order: a list of (index, wire)."""
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
    if pending:
        fail(f"{len(pending)} of {len(socks)} queries sent at once got no reply within {REPLY_S:g} s")
    return arrived


def slow_first(stub, world, rng, opener, slow_role, fast_roles, transport):
    names = [world.name(slow_role)] + [world.name(role) for role in fast_roles]
    idents = rng.sample(range(0x10000), len(names))
    socks = [opener(stub.port, query_wire(name, "A", ident=ident)) for name, ident in zip(names, idents, strict=True)]
    arrived = gather(socks)
    order = [names[index] for index, _ in arrived]
    log(f"replies over {transport} arrived in this order: {order}")
    if order[-1] != names[0]:
        fail(
            f"over {transport}, the question for the slow zone held up the others",
            expected=f"the {len(fast_roles)} fast names first, {names[0]} last",
            got=", ".join(order),
            hint="resolve each query concurrently (a thread, a task) so a slow server blocks only its own",
        )
    for index, wire in arrived:
        reply = strict(wire, names[index])
        expect_resolution(reply, world.resolve(names[index], dns.rdatatype.A), f"{names[index]} A over {transport}")


def check_slow_zone_does_not_delay_others(stub, world, rng):
    """Questions for fast zones sent after one for the slow zone are answered first, over UDP and TCP"""
    for role in ("many0", "many1"):  # the fast zones' servers are now known: their answers take one round trip
        stub.ask(world.name(role), "A", ident=rng.randrange(0x10000))
    slow_first(stub, world, rng, open_udp, "slow", ["many2", "many3", "many4"], "UDP")
    slow_first(stub, world, rng, open_tcp, "slow2", ["many5", "many6"], "TCP")


def check_twenty_questions_at_once(stub, world, rng):
    """Twenty questions sent at once are all answered correctly"""
    names = [world.name(f"many{n}") for n in range(4, 24)]
    idents = rng.sample(range(0x10000), len(names))
    socks = [open_udp(stub.port, query_wire(name, "A", ident=ident)) for name, ident in zip(names, idents, strict=True)]
    for index, wire in gather(socks):
        reply = strict(wire, names[index])
        if reply.message.id != idents[index]:
            fail(f"the reply to {names[index]} carries ID {reply.message.id}, not {idents[index]}")
        expect_resolution(reply, world.resolve(names[index], dns.rdatatype.A), f"{names[index]} A")
