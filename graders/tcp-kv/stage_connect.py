"""Stage 1: the server starts, listens on $PORT and keeps connections open."""

from labkit.checks import expect


def check_accepts_a_connection_and_keeps_it_open(kv):
    """Accepts a TCP connection and keeps it open"""
    client = kv("client")
    expect(
        not client.tcp.closed_by_peer(within=0.2),
        "your server closed the connection right after accepting it",
        hint="keep the connection open and wait for requests; the client decides when to leave",
    )


def check_accepts_several_connections(kv):
    """Accepts several connections in a row"""
    clients = [kv(f"client {n}") for n in range(1, 4)]
    for client in clients:
        expect(not client.tcp.closed_by_peer(within=0.05), f"{client.tcp.label} was closed by your server")
