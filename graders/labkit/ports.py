"""Loopback ports for learner programs."""

from __future__ import annotations

import ipaddress
import socket

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port that was free a moment ago; the learner binds it, so a rare race is reported as a harness error."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def is_accepting(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_loopback(host: str, port: int, *, what: str) -> tuple[str, int]:
    """``(host, port)`` when host is a loopback IP literal (127.0.0.0/8 or ::1): the fault tools forward traffic,
    and must never be pointed anywhere but this machine."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{what} must be a loopback IP address such as {LOOPBACK}, not {host!r}") from None
    if not address.is_loopback:
        raise ValueError(f"{what} {host} is not a loopback address: only 127.0.0.0/8 and ::1 are allowed")
    if not 0 < port < 65536:
        raise ValueError(f"{what} port {port} is not a TCP/UDP port (1-65535)")
    return str(address), port
