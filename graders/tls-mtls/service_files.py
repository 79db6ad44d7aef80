"""The files a learner's service is given, the names in them, and their replacement while it runs.

Every name is drawn from the run's seed, so ``--seed N`` replays the same names and roles. Files are replaced
the way the README promises: a complete new file renamed over the old one.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

from pki import Leaf, Pki

WORDS = ("orders", "billing", "ingest", "ops", "admin", "inventory", "ledger", "search", "audit", "mailer",
         "reports", "metrics", "payments", "catalog", "shipping", "gateway")  # fmt: skip
ROLES = ("reader", "writer", "operator")
PROBE_FILE = "grader-probe.pem"  # the grader's readiness client, next to TLS_CA


@dataclass(frozen=True)
class Names:
    """The run's DNS names: the service's two, the clients' by role, and upstreams for CALL."""

    service: str
    alt: str
    own_client: str
    reader: str
    writer: str
    operator: str
    stranger: str  # a valid certificate whose identity has no role
    upstreams: tuple[str, str]

    @classmethod
    def draw(cls, rng: random.Random) -> Names:
        words = rng.sample(WORDS, 10)
        tags = rng.sample(range(0x1000, 0x10000), 10)
        svc = [f"{word}-{tag:04x}.svc.test" for word, tag in zip(words[:5], tags[:5], strict=True)]
        clients = [f"{word}-{tag:04x}.clients.test" for word, tag in zip(words[5:], tags[5:], strict=True)]
        return cls(svc[0], svc[1], clients[0], clients[1], clients[2], clients[3], clients[4], (svc[2], svc[3]))

    def roles_file(self) -> str:
        lines = ["# identity role", f"{self.reader} reader", "", f"{self.writer} writer", f"{self.operator} operator"]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ServerLeaves:
    main: Leaf
    alt: Leaf


class ServiceFiles:
    """One folder of files for one learner program, and the environment that names them."""

    def __init__(self, folder: Path, pki: Pki, names: Names, leaves: ServerLeaves, own_client: Leaf) -> None:
        self.folder = folder
        self.pki = pki
        self.names = names
        self.leaves = leaves
        folder.mkdir(parents=True)
        self._write("ca.pem", pki.root_pem)
        self._write("chain.pem", pki.chain_pem)
        self._write("client.pem", own_client.cert_pem)
        self._write("client.key", own_client.key_pem)
        self._write("roles.txt", names.roles_file().encode())
        # With its CRL, so that a server checking revocation still trusts this CA if it loads the store.
        self._write("store/public-ca.pem", pki.public.cert_pem.bytes() + pki.crl_of(pki.public))
        (folder / "store" / "certs").mkdir()
        probe = pki.issue(names.writer)
        self._write(PROBE_FILE, probe.bundle_pem())
        self.rotate(leaves)
        self.write_crl([])

    def env(self) -> dict[str, str]:
        path = self.folder
        return {
            "TLS_NAME": self.names.service,
            "TLS_CERT": str(path / "server.pem"),
            "TLS_KEY": str(path / "server.key"),
            "TLS_ALT_NAME": self.names.alt,
            "TLS_ALT_CERT": str(path / "alt.pem"),
            "TLS_ALT_KEY": str(path / "alt.key"),
            "TLS_CHAIN": str(path / "chain.pem"),
            "TLS_CA": str(path / "ca.pem"),
            "TLS_CRL": str(path / "crl.pem"),
            "TLS_CLIENT_CERT": str(path / "client.pem"),
            "TLS_CLIENT_KEY": str(path / "client.key"),
            "ROLES_FILE": str(path / "roles.txt"),
            "SSL_CERT_FILE": str(path / "store" / "public-ca.pem"),
            "SSL_CERT_DIR": str(path / "store" / "certs"),
        }

    def rotate(self, leaves: ServerLeaves) -> None:
        """Puts new server certificates in place (keys first, so no certificate ever meets a stranger's key
        after the signal)."""
        self.leaves = leaves
        for stem, leaf in (("server", leaves.main), ("alt", leaves.alt)):
            self._write(f"{stem}.key", leaf.key_pem)
            self._write(f"{stem}.pem", leaf.cert_pem)

    def write_crl(self, revoked: list[int]) -> None:
        self._write("crl.pem", self.pki.crl_pem(revoked))

    def break_server_cert(self) -> None:
        """Replaces TLS_CERT with a file that is not a certificate."""
        self._write(
            "server.pem", b"-----BEGIN CERTIFICATE-----\nthis is not a certificate\n-----END CERTIFICATE-----\n"
        )

    def new_main_without_alt_key(self, main: Leaf) -> None:
        """A good new TLS_CERT and TLS_KEY, while TLS_ALT_KEY is missing: the reload as a whole must fail."""
        self._write("server.key", main.key_pem)
        self._write("server.pem", main.cert_pem)
        (self.folder / "alt.key").unlink()

    def mismatch_server_key(self, stranger: Leaf) -> None:
        """TLS_KEY becomes another certificate's key: it no longer matches TLS_CERT."""
        self._write("server.key", stranger.key_pem)

    def restore(self) -> None:
        """The files of the certificates in service, whatever a breakage did to them (no signal is sent)."""
        self.rotate(self.leaves)

    def _write(self, relative: str, data: bytes) -> None:
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.new")
        partial.write_bytes(data)
        os.replace(partial, target)
