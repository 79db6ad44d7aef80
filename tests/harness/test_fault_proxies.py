"""The fault proxies against real sockets: every control proven by what a client observes, nothing left behind."""

from __future__ import annotations

import os
import random
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from labkit.errors import HarnessError
from labkit.ports import free_port
from labkit.tools.tcpproxy import TcpProxy
from labkit.tools.udpproxy import UdpFaults, UdpProxy, UdpRecord, flip_bit

DEADLINE_S = 3.0
LOSSES = {"drop", "blackhole", "oversize", "unaddressed", "overflow"}
QUIET_S = 0.5  # how long "nothing arrives" is watched: a negative check, so a slow machine cannot fail it


def open_fds() -> list[str]:
    return sorted(os.listdir("/proc/self/fd"))


def wait_until(condition: Callable[[], bool], what: str, within: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {within:g} s"
        time.sleep(0.01)


@pytest.fixture(autouse=True)
def nothing_leaks() -> Iterator[None]:
    """Runs around every test (autouse fixtures are set up first, torn down last)."""
    threads, fds = threading.active_count(), open_fds()
    yield
    settled = lambda: threading.active_count() == threads and open_fds() == fds  # noqa: E731
    wait_until(settled, f"returning to {threads} threads and fds {fds} (now {threading.enumerate()}, {open_fds()})")


class TcpServer:
    """An echo server (or, with ``echo=False``, a sink) in threads; ``reading`` cleared stalls every reader."""

    def __init__(self, *, echo: bool = True, rcvbuf: int | None = None) -> None:
        self.echo, self.received, self.resets = echo, 0, 0
        self.reading, self._stop = threading.Event(), threading.Event()
        self.reading.set()
        self._listener = socket.socket()
        if rcvbuf:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self._listener.settimeout(0.05)
        self.address = self._listener.getsockname()
        self._threads = [threading.Thread(target=self._accept)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._serve, args=(conn,))
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        with conn:
            while not self._stop.is_set():
                if not self.reading.wait(0.05):
                    continue
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except ConnectionResetError:
                    self.resets += 1
                    return
                if not data:
                    return
                self.received += len(data)
                if self.echo:
                    conn.sendall(data)

    def close(self) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(DEADLINE_S)
        self._listener.close()


@pytest.fixture
def tcp_server() -> Iterator[TcpServer]:
    server = TcpServer()
    yield server
    server.close()


def connect(proxy: TcpProxy) -> socket.socket:
    return socket.create_connection(proxy.address, timeout=DEADLINE_S)


def recv_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        assert chunk, f"connection closed after {len(data)} of {count} bytes"
        data += chunk
    return data


def echoes(sock: socket.socket, data: bytes) -> bool:
    sock.sendall(data)
    return recv_exact(sock, len(data)) == data


def ended(sock: socket.socket) -> bool:
    """True when the connection is closed or reset before any byte comes back."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def refused(proxy: TcpProxy) -> bool:
    """True when a new connection through the proxy fails: refused, reset or closed before any byte comes back."""
    try:
        with connect(proxy) as sock:
            sock.sendall(b"hello")
            return ended(sock)
    except ConnectionError:
        return True


def test_tcp_forwards_both_ways_and_counts_every_byte(tcp_server: TcpServer) -> None:
    payload = random.Random(1).randbytes(1_000_000)
    with TcpProxy(tcp_server.address) as proxy, connect(proxy) as sock:
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        assert recv_exact(sock, len(payload)) == payload
        sender.join()
        stats = proxy.stats()
        assert (stats.bytes_to_target, stats.bytes_to_client) == (len(payload), len(payload))
        assert (stats.accepted, stats.active, stats.refused, stats.failed) == (1, 1, 0, 0)
        sock.shutdown(socket.SHUT_WR)  # the FIN travels through, the server closes, so does the proxy
        assert sock.recv(1) == b""
        wait_until(lambda: proxy.stats().active == 0, "the proxy closing the finished connection")


def test_tcp_a_target_that_stops_reading_stops_the_sender() -> None:
    limit = 128 * 1024 * 1024  # far more than every kernel buffer on the path: only an unbounded proxy gets there
    server = TcpServer(echo=False, rcvbuf=65536)
    server.reading.clear()
    try:
        with TcpProxy(server.address, buffer_bytes=65536) as proxy, connect(proxy) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
            sock.setblocking(False)
            sent, chunk = 0, b"x" * 65536
            while sent < limit:
                try:
                    sent += sock.send(chunk)
                except BlockingIOError:
                    if not select.select([], [sock], [], 1.0)[1]:
                        break
            assert sent < limit, "the proxy kept reading from a client whose target does not read"
            server.reading.set()
            wait_until(lambda: server.received == sent, f"all {sent} bytes reaching the target", within=10)
            assert proxy.stats().bytes_to_target == sent
    finally:
        server.close()


def test_tcp_blackhole_silences_the_link_until_healed(tcp_server: TcpServer) -> None:
    with TcpProxy(tcp_server.address) as proxy, connect(proxy) as sock:
        assert echoes(sock, b"before")
        proxy.partition()
        sock.sendall(b"during")
        sock.settimeout(QUIET_S)
        with pytest.raises(TimeoutError):
            sock.recv(6)
        assert tcp_server.received == len(b"before")
        assert refused(proxy)
        assert proxy.stats().refused == 1
        proxy.heal()
        sock.settimeout(DEADLINE_S)
        assert recv_exact(sock, 6) == b"during"  # held, not lost, like TCP across a healed partition
        with connect(proxy) as fresh:
            assert echoes(fresh, b"after")


def test_tcp_reset_partition_resets_both_sides_and_refuses_new_connections(tcp_server: TcpServer) -> None:
    with TcpProxy(tcp_server.address) as proxy, connect(proxy) as sock:
        assert echoes(sock, b"hello")
        proxy.partition("reset")
        with pytest.raises(ConnectionResetError):
            sock.recv(1)
        wait_until(lambda: tcp_server.resets == 1, "the target seeing the reset")
        assert refused(proxy)
        proxy.heal()
        with connect(proxy) as fresh:
            assert echoes(fresh, b"after")
        assert proxy.stats().refused == 1


def test_tcp_reset_and_drop_connections_as_a_client_sees_them(tcp_server: TcpServer) -> None:
    with TcpProxy(tcp_server.address) as proxy:
        with connect(proxy) as reset, connect(proxy) as other:
            assert echoes(reset, b"a") and echoes(other, b"b")
            proxy.reset_connections()
            for sock in (reset, other):
                with pytest.raises(ConnectionResetError):
                    sock.recv(1)
        assert proxy.stats().active == 0
        with connect(proxy) as dropped:
            assert echoes(dropped, b"c")
            proxy.drop_connections()
            assert dropped.recv(1) == b""
        with connect(proxy) as fresh:  # neither control partitions the link
            assert echoes(fresh, b"d")


def test_tcp_delay_holds_each_chunk_in_order(tcp_server: TcpServer) -> None:
    with TcpProxy(tcp_server.address) as proxy, connect(proxy) as sock:
        proxy.delay(0.2)
        started = time.monotonic()
        for piece in (b"one ", b"two ", b"three"):
            sock.sendall(piece)
        assert recv_exact(sock, 13) == b"one two three"
        assert time.monotonic() - started >= 0.4  # held once each way; no upper bound on a loaded machine
        proxy.delay(0)
        assert echoes(sock, b"fast again")
        with pytest.raises(ValueError, match="delay"):
            proxy.delay(-1)


def test_tcp_connection_cap_and_unreachable_target(tcp_server: TcpServer) -> None:
    with TcpProxy(tcp_server.address, max_connections=2) as proxy, connect(proxy) as a, connect(proxy) as b:
        assert echoes(a, b"a") and echoes(b, b"b")
        assert refused(proxy)
        assert (proxy.stats().accepted, proxy.stats().refused) == (3, 1)
    with TcpProxy(("127.0.0.1", free_port())) as proxy:
        assert refused(proxy)
        assert proxy.stats().failed == 1


def test_tcp_close_ends_every_connection_and_the_loop(tcp_server: TcpServer) -> None:
    proxy = TcpProxy(tcp_server.address)
    with connect(proxy) as first, connect(proxy) as second:
        assert echoes(first, b"1") and echoes(second, b"2")
        proxy.delay(5)
        first.sendall(b"in flight")
        proxy.close()
        assert ended(first) and ended(second)
    assert proxy.stats().bytes_to_target == 2  # the final counts stay readable
    with pytest.raises(HarnessError, match="closed"):
        proxy.partition()
    proxy.close()  # a second close does nothing


PROXIES: dict[str, Callable[[str], object]] = {
    "tcp": lambda host: TcpProxy((host, 80)),
    "udp": lambda host: UdpProxy((host, 80), seed=0),
}


@pytest.mark.parametrize("kind", PROXIES)
@pytest.mark.parametrize("host", ["10.0.0.1", "8.8.8.8", "localhost", "::ffff:8.8.8.8", "0.0.0.0"])
def test_targets_off_this_machine_are_refused(kind: str, host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        PROXIES[kind](host)


def test_ipv6_loopback_targets(client: socket.socket) -> None:
    with socket.socket(socket.AF_INET6) as listener:
        listener.bind(("::1", 0))
        listener.listen()
        with TcpProxy(("::1", listener.getsockname()[1])) as proxy, connect(proxy) as sock:
            server_side, _ = listener.accept()
            with server_side:
                sock.sendall(b"v6")
                assert recv_exact(server_side, 2) == b"v6"
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as server:
        server.bind(("::1", 0))
        server.settimeout(DEADLINE_S)
        with UdpProxy(("::1", server.getsockname()[1]), seed=0) as proxy:
            client.sendto(b"v6", proxy.address)
            data, source = server.recvfrom(100)
            server.sendto(b"back", source)
            assert (data, client.recv(100)) == (b"v6", b"back")


class UdpServer:
    """Echoes every datagram back (or only keeps it, with ``echo=False``); ``received`` in arrival order."""

    def __init__(self, *, echo: bool = True) -> None:
        self.echo = echo
        self.received: list[bytes] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.address = self.sock.getsockname()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, source = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            self.received.append(data)
            if self.echo:
                self.sock.sendto(data, source)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(DEADLINE_S)
        self.sock.close()


@pytest.fixture
def udp_server() -> Iterator[UdpServer]:
    server = UdpServer()
    yield server
    server.close()


@pytest.fixture
def client() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(DEADLINE_S)
        yield sock


def send_all(sock: socket.socket, proxy: UdpProxy, datagrams: list[bytes]) -> None:
    """Sends in small bursts, each read by the proxy before the next, so no kernel buffer ever overflows."""
    for number, datagram in enumerate(datagrams, 1):
        sock.sendto(datagram, proxy.address)
        if number % 16 == 0 or number == len(datagrams):
            read = lambda count=number: proxy.stats().to_server.sent >= count  # noqa: E731
            wait_until(read, f"the proxy reading datagram {number}")


def numbered(count: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    return [b"%04d:" % n + rng.randbytes(rng.randrange(1, 40)) for n in range(count)]


def test_udp_without_faults_delivers_everything_in_order(udp_server: UdpServer, client: socket.socket) -> None:
    datagrams = numbered(50)
    with UdpProxy(udp_server.address, seed=1) as proxy:
        send_all(client, proxy, datagrams)
        assert [client.recv(65536) for _ in datagrams] == datagrams
        stats = proxy.stats()
        records = proxy.records()
    assert udp_server.received == datagrams
    for counts in (stats.to_server, stats.to_client):
        assert (counts.sent, counts.delivered, counts.dropped, counts.duplicated) == (50, 50, 0, 0)
    assert [r.data for r in records if r.direction == "to_server"] == datagrams
    assert all(r.faults == () for r in records) and len(records) == 100


def test_udp_drop_everything_then_nothing(udp_server: UdpServer, client: socket.socket) -> None:
    with UdpProxy(udp_server.address, seed=2, to_server=UdpFaults(drop=1.0)) as proxy:
        send_all(client, proxy, numbered(20))
        time.sleep(QUIET_S)
        assert udp_server.received == []
        assert proxy.stats().to_server.dropped == 20
        assert {r.faults for r in proxy.records()} == {("drop",)}
        proxy.set_faults(to_server=UdpFaults())
        client.sendto(b"through", proxy.address)
        assert client.recv(100) == b"through"


def test_udp_blackhole_and_heal(udp_server: UdpServer, client: socket.socket) -> None:
    with UdpProxy(udp_server.address, seed=3) as proxy:
        proxy.blackhole()
        send_all(client, proxy, [b"lost"] * 5)
        time.sleep(QUIET_S)
        assert udp_server.received == []
        assert {r.faults for r in proxy.records()} == {("blackhole",)}
        proxy.heal()
        client.sendto(b"back", proxy.address)
        assert client.recv(100) == b"back"


Fates = list[tuple[bytes, tuple[str, ...], int | None]]  # per datagram to the server: data, faults, flipped bit


def fates(records: list[UdpRecord]) -> Fates:
    return [(r.data, r.faults, r.flipped_bit) for r in records if r.direction == "to_server"]


EVERY_FAULT = UdpFaults(drop=0.2, duplicate=0.2, reorder=0.2, corrupt=0.2)


def run_seeded(seed: int, datagrams: list[bytes], profile: UdpFaults = EVERY_FAULT) -> tuple[Fates, list[bytes]]:
    """The fate of each datagram sent to the server, and what the server received, in order."""
    sink = UdpServer(echo=False)
    try:
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
            UdpProxy(sink.address, seed=seed, to_server=profile) as proxy,
        ):
            send_all(sock, proxy, datagrams)
            delivered = proxy.stats().to_server.delivered
            wait_until(lambda: len(sink.received) == delivered, "the sink receiving every datagram passed on")
            return fates(proxy.records()), list(sink.received)
    finally:
        sink.close()


def test_udp_same_seed_same_decisions() -> None:
    datagrams = numbered(200, seed=5)
    first, replay, other_seed = (run_seeded(seed, datagrams) for seed in (42, 42, 43))
    assert first == replay
    assert first[0] != other_seed[0]  # the seed matters
    assert {fault for _, faults, _ in first[0] for fault in faults} >= {"drop", "duplicate", "reorder", "corrupt"}


def longest_loss_run(fates: Fates) -> int:
    """The most datagrams in a row that were dropped or corrupted."""
    longest = run = 0
    for _, faults, _ in fates:
        run = run + 1 if {"drop", "corrupt"} & set(faults) else 0
        longest = max(longest, run)
    return longest


@pytest.mark.parametrize("cap", [1, 2])
def test_udp_losses_in_a_row_are_capped(cap: int) -> None:
    datagrams = numbered(300, seed=13)
    lossy = UdpFaults(drop=0.4, corrupt=0.3)
    uncapped, _ = run_seeded(14, datagrams, lossy)
    capped, received = run_seeded(14, datagrams, replace(lossy, max_consecutive_losses=cap))
    assert longest_loss_run(uncapped) > cap  # these draws alone lose more in a row: the cap is what stops them
    assert longest_loss_run(capped) == cap
    assert sum("drop" in faults for _, faults, _ in capped) > 50  # still a lossy link
    passed_on = [data if bit is None else flip_bit(data, bit) for data, faults, bit in capped if "drop" not in faults]
    assert received == passed_on
    replay, _ = run_seeded(14, datagrams, replace(lossy, max_consecutive_losses=cap))
    assert replay == capped  # the cap keeps a seed's decisions replayable


def test_udp_a_cap_on_losses_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="max_consecutive_losses"):
        UdpFaults(max_consecutive_losses=0)


def test_udp_corrupt_flips_exactly_the_recorded_bit(client: socket.socket) -> None:
    sink = UdpServer(echo=False)
    datagrams = numbered(20, seed=6)
    try:
        with UdpProxy(sink.address, seed=7, to_server=UdpFaults(corrupt=1.0)) as proxy:
            send_all(client, proxy, datagrams)
            wait_until(lambda: len(sink.received) == 20, "20 datagrams arriving")
            records = proxy.records()
    finally:
        sink.close()
    for sent, got, record in zip(datagrams, sink.received, records, strict=True):
        difference = int.from_bytes(sent, "big") ^ int.from_bytes(got, "big")
        assert difference.bit_count() == 1 and len(got) == len(sent)
        assert record.flipped_bit is not None
        assert difference == 1 << (len(sent) * 8 - 1 - record.flipped_bit)


def test_udp_reorder_swaps_and_duplicate_doubles(client: socket.socket) -> None:
    sink = UdpServer(echo=False)
    try:
        with UdpProxy(sink.address, seed=8, to_server=UdpFaults(reorder=1.0)) as proxy:
            send_all(client, proxy, [b"A", b"B", b"C", b"D"])
            wait_until(lambda: len(sink.received) == 4, "4 datagrams arriving")
            assert sink.received == [b"B", b"A", b"D", b"C"]
            assert proxy.stats().to_server.reordered == 2
            sink.received.clear()
            proxy.set_faults(to_server=UdpFaults(duplicate=1.0))
            send_all(client, proxy, [b"E", b"F"])
            wait_until(lambda: len(sink.received) == 4, "4 copies arriving")
            assert sink.received == [b"E", b"E", b"F", b"F"]
            counts = proxy.stats().to_server
            assert (counts.sent, counts.delivered, counts.duplicated) == (6, 8, 2)
    finally:
        sink.close()


def test_udp_delay_is_a_lower_bound(udp_server: UdpServer, client: socket.socket) -> None:
    with UdpProxy(udp_server.address, seed=9, to_client=UdpFaults(delay=0.3, jitter=0.1)) as proxy:
        started = time.monotonic()
        client.sendto(b"slow", proxy.address)
        assert client.recv(100) == b"slow"
        assert time.monotonic() - started >= 0.3
        (reply,) = [r for r in proxy.records() if r.direction == "to_client"]
        assert 0.3 <= reply.delay <= 0.4


def test_udp_replies_go_to_the_last_client_address(udp_server: UdpServer, client: socket.socket) -> None:
    with UdpProxy(udp_server.address, seed=10) as proxy, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.settimeout(DEADLINE_S)
        client.sendto(b"first", proxy.address)
        assert client.recv(100) == b"first"
        other.sendto(b"second", proxy.address)
        assert other.recv(100) == b"second"


def test_udp_counts_match_the_log(udp_server: UdpServer, client: socket.socket) -> None:
    profile = UdpFaults(drop=0.2, duplicate=0.2, reorder=0.2, corrupt=0.2)
    with UdpProxy(udp_server.address, seed=11, to_server=profile, to_client=profile) as proxy:
        send_all(client, proxy, numbered(100, seed=11))

        def settled() -> bool:  # the server has every datagram passed on, and the proxy every echo of them
            stats = proxy.stats()
            return len(udp_server.received) == stats.to_server.delivered == stats.to_client.sent

        wait_until(settled, "every datagram passed on echoed back to the proxy")
        stats, records = proxy.stats(), proxy.records()
    assert stats.unrecorded == 0 and stats.to_client.sent > 0
    passed_on = 0
    for direction, counts in (("to_server", stats.to_server), ("to_client", stats.to_client)):
        mine = [r for r in records if r.direction == direction]
        kept = [r for r in mine if not set(r.faults) & LOSSES]
        assert (counts.sent, counts.dropped, counts.failed) == (len(mine), len(mine) - len(kept), 0)
        assert counts.duplicated == sum("duplicate" in r.faults for r in mine)
        assert counts.reordered == sum("reorder" in r.faults for r in mine)
        assert counts.corrupted == sum("corrupt" in r.faults for r in mine)
        passed_on += sum(2 if "duplicate" in r.faults else 1 for r in kept)
    assert stats.to_server.delivered + stats.to_client.delivered + stats.waiting == passed_on


def test_udp_log_and_queue_are_bounded(client: socket.socket) -> None:
    sink = UdpServer(echo=False)
    try:
        with UdpProxy(sink.address, seed=12, to_server=UdpFaults(delay=30), max_records=4, max_waiting=3) as proxy:
            send_all(client, proxy, numbered(6))
            stats, records = proxy.stats(), proxy.records()
        assert (stats.waiting, stats.to_server.dropped, stats.unrecorded) == (3, 3, 2)
        assert [r.faults for r in records] == [(), (), (), ("overflow",)]
        assert sink.received == []  # closing discarded the delayed ones
    finally:
        sink.close()
