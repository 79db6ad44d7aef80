"""Stage 2: TLS 1.2 and 1.3 accepted; TLS 1.0, TLS 1.1 and weak cipher suites refused."""

import ssl

import clienthello
from labkit.checks import expect, expect_equal, log

ACCEPT_HINT = "accept both TLS 1.2 and TLS 1.3: set a minimum version, but no maximum"
FLOOR_HINT = "set the minimum protocol version to TLS 1.2 (ssl.TLSVersion.TLSv1_2 in Python)"


def _offer(service, names, version, suites):
    answer = clienthello.offer(service.port, version, list(suites), names.service)
    log(f"ClientHello offering {clienthello.VERSION_NAMES[version]} at most: got {answer.describe()}")
    return answer


def check_tls_1_0_is_refused(service, names):
    """A ClientHello offering TLS 1.0 at most gets no ServerHello"""
    answer = _offer(service, names, clienthello.TLS_1_0, clienthello.ORDINARY_SUITES)
    expect(not answer.agreed, f"your service agreed to TLS 1.0: it answered with {answer.describe()}", hint=FLOOR_HINT)


def check_tls_1_1_is_refused(service, names):
    """A ClientHello offering TLS 1.1 at most gets no ServerHello"""
    answer = _offer(service, names, clienthello.TLS_1_1, clienthello.ORDINARY_SUITES)
    expect(not answer.agreed, f"your service agreed to TLS 1.1: it answered with {answer.describe()}", hint=FLOOR_HINT)


def check_tls_1_2_and_1_3_are_accepted(connect, clients):
    """Clients pinned to TLS 1.2 and to TLS 1.3 each get a session"""
    for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        session = connect(f"{name} client", clients.reader, version=version, hint=ACCEPT_HINT)
        expect_equal(session.version, name, "the negotiated version")
        expect_equal(session.request("PING"), "200 PONG", f"the reply to PING over {name}")


def check_weak_cipher_suites_are_refused(service, names):
    """A TLS 1.2 ClientHello offering only NULL, export and RC4 suites gets no ServerHello"""
    answer = _offer(service, names, clienthello.TLS_1_2, clienthello.WEAK_SUITES)
    expect(
        not answer.agreed,
        f"your service agreed to a weak cipher suite: it answered with {answer.describe()}",
        hint="keep the TLS library's default cipher suites: never add eNULL, EXPORT or RC4, nor @SECLEVEL=0",
    )
