"""Loopback ports for learner programs and the servers labkit starts.

A port is handed out some time before its server binds it (a learner's interpreter is still starting). A port
from the kernel's ephemeral range could be taken meanwhile by any outgoing connection on the machine, and the
learner's program would then fail to bind through no fault of its own. So ports come from just below that range,
where the kernel never assigns one by itself: only another process that chose the same port explicitly can clash,
and the choice is random over thousands of ports, each checked free.
"""

from __future__ import annotations

import ipaddress
import random
import socket
from pathlib import Path

LOOPBACK = "127.0.0.1"
RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_EPHEMERAL = (32768, 60999)  # Linux's default, also used where the file cannot be read
POOL_SIZE = 12000  # ports below the ephemeral range to choose from
LOWEST = 10000  # never below: well-known and registered services live down there
ATTEMPTS = 200

_chooser = random.SystemRandom()  # never the run's seed: concurrent runs must not choose alike


def ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(part) for part in RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL
    return low, high


def port_pool() -> range:
    """Where ports are chosen: below the ephemeral range, or above it when it starts too low for that."""
    low, high = ephemeral_range()
    if low - LOWEST >= POOL_SIZE // 4:
        return range(max(LOWEST, low - POOL_SIZE), low)
    return range(high + 1, 65536)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port outside the ephemeral range that nothing holds now (not even a TIME_WAIT connection)."""
    pool = port_pool()
    if len(pool) > 0:
        for _ in range(ATTEMPTS):
            port = _chooser.choice(pool)
            if _bindable(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:  # a crowded machine: the kernel's choice
        probe.bind((LOOPBACK, 0))
        chosen: int = probe.getsockname()[1]
        return chosen


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
