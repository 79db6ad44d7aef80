"""The run's public key infrastructure: a root, an intermediate that signs every leaf, and the outsiders.

trustme mints the authorities and the ordinary leaves; cryptography the certificates trustme cannot make (one
for servers only) and the revocation lists. Keys come from the operating system's randomness; names, roles and
everything a check chooses come from the run's seed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Leaf:
    """One end-entity certificate: the leaf alone, the chain its holder sends after it, and its key."""

    name: str
    cert_pem: bytes
    chain_pem: bytes
    key_pem: bytes

    @property
    def serial(self) -> int:
        return x509.load_pem_x509_certificate(self.cert_pem).serial_number

    def bundle_pem(self) -> bytes:
        """Key, leaf and chain in one file, as ``ssl.SSLContext.load_cert_chain`` reads them."""
        return self.key_pem + self.cert_pem + self.chain_pem


class Pki:
    """The authorities of one run and the certificates they issue."""

    def __init__(self) -> None:
        self.root = trustme.CA(organization_unit_name="tls-mtls root CA")
        self.intermediate = self.root.create_child_ca()
        self.unrelated = trustme.CA(organization_unit_name="an unrelated CA")
        self.public = trustme.CA(organization_unit_name="a public CA of the machine's store")

    @property
    def root_pem(self) -> bytes:
        return self.root.cert_pem.bytes()

    @property
    def chain_pem(self) -> bytes:
        return self.intermediate.cert_pem.bytes()

    def issue(
        self, name: str, *, by: trustme.CA | None = None, valid_days: tuple[int, int] = (-1, 30), cn: str | None = None
    ) -> Leaf:
        """A leaf for ``name`` (its one DNS subjectAltName), valid from ``valid_days[0]`` to ``valid_days[1]`` days
        from now, usable by clients and servers, issued by the intermediate unless ``by`` says otherwise."""
        authority = by or self.intermediate
        now = datetime.datetime.now(datetime.UTC)
        issued = authority.issue_cert(
            name, common_name=cn, not_before=now + valid_days[0] * DAY, not_after=now + valid_days[1] * DAY
        )
        leaf, *chain = (blob.bytes() for blob in issued.cert_chain_pems)
        return Leaf(name, leaf, b"".join(chain), issued.private_key_pem.bytes())

    def issue_for_servers_only(self, name: str) -> Leaf:
        """A leaf whose extended key usage is serverAuth alone: a client must not authenticate with it."""
        issuer_cert = x509.load_pem_x509_certificate(self.intermediate.cert_pem.bytes())
        issuer_key = serialization.load_pem_private_key(self.intermediate.private_key_pem.bytes(), None)
        assert isinstance(issuer_key, ec.EllipticCurvePrivateKey), "trustme's authorities have ECDSA keys"
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "servers only")]))
            .issuer_name(issuer_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - DAY)
            .not_valid_after(now + 30 * DAY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
            .sign(issuer_key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        return Leaf(name, cert.public_bytes(serialization.Encoding.PEM), self.chain_pem, key_pem)

    def crl_pem(self, revoked: list[int]) -> bytes:
        """``TLS_CRL``: the root's CRL (revoking nothing) and the intermediate's, revoking ``revoked`` serials."""
        return self.crl_of(self.root) + self.crl_of(self.intermediate, revoked)

    @staticmethod
    def crl_of(authority: trustme.CA, revoked: tuple[int, ...] | list[int] = ()) -> bytes:
        """A CRL signed by ``authority``, listing ``revoked`` serials."""
        issuer = x509.load_pem_x509_certificate(authority.cert_pem.bytes())
        key = serialization.load_pem_private_key(authority.private_key_pem.bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey), "trustme's authorities have ECDSA keys"
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.subject)
            .last_update(now - datetime.timedelta(hours=1))
            .next_update(now + 7 * DAY)
            .add_extension(x509.CRLNumber(len(revoked) + 1), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        )
        for serial in revoked:
            entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now - DAY).build()
            builder = builder.add_revoked_certificate(entry)
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
