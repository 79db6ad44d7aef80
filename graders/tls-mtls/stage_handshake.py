"""Stage 1: TLS with the full chain served, and the line protocol on top."""

import socket

from labkit.checks import expect, expect_equal, fail
from labkit.ports import LOOPBACK
from tlsclient import client_context, handshake

LONG_LINE_HINT = (
    "a line is at most 256 bytes with its LF: a longer one gets 400 and a close, even when its LF came in the same read"
)
CHAIN_HINT = "present TLS_CERT followed by TLS_CHAIN: the grader trusts TLS_CA (the root) alone"


def check_chain_verifies_against_the_root_alone(service, pki, names, clients, server_leaves):
    """A client trusting only the root verifies your chain and your name"""
    context = client_context(pki.root_pem, clients.reader)
    shake = handshake(service.port, context, names.service, "client")
    if shake.session is None:
        hint = CHAIN_HINT if "local issuer" in shake.error else "require a client certificate and trust TLS_CA"
        fail(
            "a client that trusts only TLS_CA could not complete a verified handshake with your service",
            expected=f"a chain from a certificate for {names.service} to TLS_CA",
            got=shake.error,
            hint=hint,
        )
    expect_equal(
        shake.session.serial, server_leaves.main.serial, "the serial of the certificate you served", hint=CHAIN_HINT
    )
    shake.session.close()


def check_ping_on_one_connection(connect, clients):
    """PING is answered on one connection, again and again"""
    session = connect("client", clients.reader)
    for _ in range(5):
        expect_equal(session.request("PING"), "200 PONG", "the reply to PING")


def check_several_clients_while_one_stalls(service, connect, clients, rng):
    """Several clients are served at once while one connection never starts its handshake and one never ends a line"""
    with socket.create_connection((LOOPBACK, service.port), timeout=5.0):
        connect("client with half a line", clients.stranger).send(b"PI")
        sessions = [connect(f"client {n}", identity) for n, identity in enumerate(
            (clients.reader, clients.writer, clients.operator, clients.stranger), start=1)]  # fmt: skip
        for session in rng.sample(sessions, len(sessions)):
            expect_equal(
                session.request("PING"),
                "200 PONG",
                f"the reply to {session.label}",
                hint="serve each connection on its own (a thread, or an event loop): do the handshake there too",
            )


def check_unknown_command_is_400_and_the_connection_stays(connect, clients):
    """An unknown command gets 400 and the connection stays open"""
    session = connect("client", clients.writer)
    for line in ("HELLO", "ping", "GET", "PUT onlykey", "PING extra"):
        reply = session.request(line)
        expect(reply.startswith("400 "), f"{line!r} got {reply!r}, not a 400 reply", hint="see The protocol")
    expect_equal(session.request("PING"), "200 PONG", "the reply to PING after the 400s")


def check_line_limit(connect, clients, rng):
    """A 256-byte line is read whole; 256 bytes without a newline get 400 and a close, even when an LF follows"""
    session = connect("client", clients.writer)
    longest = "GET " + "k" * 251  # 255 characters and the LF: 256 bytes, within the limit, an invalid key
    reply = session.request(longest)
    expect(reply.startswith("400 "), f"a 256-byte request got {reply!r}, not 400", hint="a key has 1 to 32 characters")
    expect_equal(session.request("PING"), "200 PONG", "the reply to PING after a 256-byte line")
    session.send(b"GET " + b"k" * 252)  # 256 bytes and no LF: the limit is reached, nothing more is sent
    reply = session.reply(
        "a 400 reply to 256 bytes without a newline",
        hint="the limit counts the LF: once 256 bytes are in without one, reply 400 and close, waiting for no more",
    )
    expect(reply.startswith("400 "), f"an over-long line got {reply!r}, not 400")
    expect(
        session.is_closed_by_peer(within=3.0),
        "your service kept the connection open after an over-long line",
        hint="after 256 bytes without a newline, reply 400 and close the connection",
    )
    # Longer lines sent whole, LF included: their first 256 bytes still hold no LF, so they too get 400 and a close.
    for size in rng.sample((256, 257, 300), 3):
        longer = connect(f"client sending {size} bytes and an LF at once", clients.writer)
        longer.send(b"GET " + b"k" * (size - 4) + b"\n")
        reply = longer.reply(f"a 400 reply to a {size + 1}-byte line", hint=LONG_LINE_HINT)
        expect(reply.startswith("400 "), f"a {size + 1}-byte line got {reply!r}, not 400", hint=LONG_LINE_HINT)
        expect(
            longer.is_closed_by_peer(within=5.0),
            f"your service kept the connection open after a {size + 1}-byte line",
            hint=LONG_LINE_HINT,
        )
