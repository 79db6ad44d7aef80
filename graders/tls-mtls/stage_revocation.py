"""Stage 8: client certificates listed in TLS_CRL are refused, and SIGHUP reads the list again."""

from labkit.checks import expect, fail
from rotation import expect_refused_within, send_sighup
from tlsclient import attempt, client_context

CRL_HINT = "load TLS_CRL into the store that verifies clients and turn CRL checking on (VERIFY_CRL_CHECK_LEAF)"


def _let_in(port, pki, names, identity, who):
    outcome = attempt(port, client_context(pki.root_pem, identity), names.service, who)
    if not outcome.let_in:
        fail(f"{who} was refused, though its certificate is valid and not revoked", got=outcome.how)


def check_revoked_certificate_is_refused(service, pki, names, clients, revoked_client):
    """A certificate revoked in TLS_CRL is refused while valid ones get in"""
    outcome = attempt(service.port, client_context(pki.root_pem, revoked_client), names.service, "revoked writer")
    expect(
        not outcome.let_in, f"your service let in a writer whose certificate is revoked: {outcome.how}", hint=CRL_HINT
    )
    _let_in(service.port, pki, names, clients.writer, "the writer with a valid certificate")
    _let_in(service.port, pki, names, clients.reader, "the reader")


def check_new_crl_is_read_on_sighup(own_service, pki, names, clients, revoked_client):
    """After a new CRL and SIGHUP, a newly revoked certificate is refused and others still get in"""
    newly_revoked = pki.issue(names.operator)
    _let_in(own_service.port, pki, names, newly_revoked, "the operator before its revocation")
    own_service.files.write_crl([revoked_client.serial, newly_revoked.serial])
    send_sighup(own_service.process)
    expect_refused_within(
        own_service.process, own_service.port, pki, newly_revoked, names.service, "the operator revoked after start-up"
    )
    _let_in(own_service.port, pki, names, clients.operator, "another operator's valid certificate")
    outcome = attempt(own_service.port, client_context(pki.root_pem, revoked_client), names.service, "revoked writer")
    expect(not outcome.let_in, f"the certificate revoked from the start was let in after the reload: {outcome.how}")
