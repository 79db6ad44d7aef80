"""Ports handed to learner programs and servers: outside the kernel's ephemeral range, so no outgoing connection
on the machine can take one between the choice and the bind, and never one that something holds."""

from __future__ import annotations

import socket
from typing import Any

from labkit import ports


def test_ports_come_from_below_the_ephemeral_range_and_vary() -> None:
    low, high = ports.ephemeral_range()
    chosen = {ports.free_port() for _ in range(50)}
    assert all(port in ports.port_pool() and not low <= port <= high for port in chosen)
    assert len(chosen) > 40  # random over thousands: two concurrent runs rarely even try the same port


def test_a_held_port_is_passed_over(monkeypatch: Any) -> None:
    pool = ports.port_pool()
    with socket.socket() as listener, socket.socket() as connected_holder:
        listener.bind((ports.LOOPBACK, 0))
        listener.listen()
        held = next(port for port in pool if ports._bindable(port))
        connected_holder.bind((ports.LOOPBACK, held))
        connected_holder.connect(listener.getsockname())  # held by a connection, not a listener
        free = next(port for port in reversed(pool) if ports._bindable(port))
        offers = iter([held, held, free])
        monkeypatch.setattr(ports._chooser, "choice", lambda _pool: next(offers))
        assert ports.free_port() == free


def test_a_machine_whose_ephemeral_range_covers_everything_still_gets_a_port(monkeypatch: Any) -> None:
    monkeypatch.setattr(ports, "ephemeral_range", lambda: (1024, 65535))
    assert len(ports.port_pool()) == 0
    port = ports.free_port()
    with socket.socket() as server:
        server.bind((ports.LOOPBACK, port))
