"""Every node-to-node link of a cluster through a fault proxy of its own, so that the grader can cut any of them."""

from __future__ import annotations

from collections.abc import Iterable

from labkit.tools.tcpproxy import PartitionMode, TcpProxy

Address = tuple[str, int]


class Links:
    """One :class:`TcpProxy` per directed link (from node i to node j), made as the cluster is created."""

    def __init__(self) -> None:
        self.proxies: dict[tuple[int, int], TcpProxy] = {}

    def route(self, source: int, target: int, direct: Address) -> Address:
        """The cluster's ``peer_address``: node ``source`` reaches node ``target`` through a new proxy."""
        proxy = TcpProxy(direct, label=f"link {source}→{target}")
        self.proxies[source, target] = proxy
        return proxy.address

    def touching(self, node: int) -> list[TcpProxy]:
        return [proxy for (source, target), proxy in self.proxies.items() if node in (source, target)]

    def isolate(self, node: int, mode: PartitionMode = "blackhole") -> None:
        """Cuts every link to and from ``node``: the other nodes form the majority side."""
        for proxy in self.touching(node):
            proxy.partition(mode)

    def silence(self, links: Iterable[tuple[int, int]]) -> None:
        """Holds what travels on the given directed links, both ways, until healed."""
        for link in links:
            self.proxies[link].partition()

    def heal(self) -> None:
        for proxy in self.proxies.values():
            proxy.heal()

    def bytes_moved(self) -> int:
        """Bytes delivered over every link, both directions, since the cluster started."""
        return sum(s.bytes_to_target + s.bytes_to_client for s in (p.stats() for p in self.proxies.values()))

    def connections(self) -> int:
        return sum(proxy.stats().accepted for proxy in self.proxies.values())

    def close(self) -> None:
        for proxy in self.proxies.values():
            proxy.close()
