"""Stage 4: mutual TLS. Only a valid certificate from TLS_CA, made for clients and within its dates, gets in."""

from labkit.checks import expect, fail
from tlsclient import attempt, client_context


def _refused(service, pki, names, identity, who, hint):
    outcome = attempt(service.port, client_context(pki.root_pem, identity), names.service, who)
    expect(
        not outcome.let_in,
        f"your service let in {who}: {outcome.how}",
        hint=hint,
    )


def check_no_certificate_is_refused(service, pki, names):
    """A client without a certificate is refused"""
    _refused(
        service, pki, names, None, "a client with no certificate",
        "require a certificate (CERT_REQUIRED, not CERT_NONE or CERT_OPTIONAL) and refuse during the handshake",
    )  # fmt: skip


def check_unrelated_ca_is_refused(service, pki, names):
    """A certificate from an unrelated CA is refused"""
    identity = pki.issue(names.writer, by=pki.unrelated)
    _refused(service, pki, names, identity, "a writer's certificate from an unrelated CA", "trust TLS_CA alone")


def check_machine_store_ca_is_refused(service, pki, names):
    """A certificate from the CA of the machine's store (SSL_CERT_FILE) is refused"""
    identity = pki.issue(names.writer, by=pki.public)
    _refused(
        service, pki, names, identity, "a writer's certificate from the CA in SSL_CERT_FILE",
        "do not load the system's trust store (load_default_certs, create_default_context) for clients",
    )  # fmt: skip


def check_expired_and_future_certificates_are_refused(service, pki, names):
    """Certificates past their end date, or before their start date, are refused"""
    for identity, what in (
        (pki.issue(names.writer, valid_days=(-30, -1)), "an expired writer's certificate"),
        (pki.issue(names.writer, valid_days=(1, 30)), "a writer's certificate that is not valid yet"),
    ):
        _refused(service, pki, names, identity, what, "leave the validity-date checks of your TLS library on")


def check_server_only_certificate_is_refused(service, pki, names):
    """A certificate made for servers only (no clientAuth usage) is refused"""
    identity = pki.issue_for_servers_only(names.writer)
    _refused(
        service, pki, names, identity, "a writer's certificate whose extended key usage is serverAuth only",
        "a client certificate must allow clientAuth: keep the library's purpose check",
    )  # fmt: skip


def check_valid_certificates_get_in(service, pki, names, clients):
    """Valid certificates of three identities are let in"""
    for who, identity in (("reader", clients.reader), ("stranger", clients.stranger), ("operator", clients.operator)):
        outcome = attempt(service.port, client_context(pki.root_pem, identity), names.service, f"the {who}")
        if not outcome.let_in or "'200 PONG'" not in outcome.how:
            fail(
                f"a valid client certificate ({identity.name}) did not get a session",
                expected="the handshake completes and PING gets '200 PONG'",
                got=outcome.how,
                hint="trust TLS_CA for clients; clients send their leaf followed by the intermediate",
            )
