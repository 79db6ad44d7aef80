"""Stage 3: the server name a client sends (SNI) picks the certificate; an unknown one is refused."""

from labkit.checks import expect_equal, fail
from tlsclient import client_context, handshake

SNI_HINT = "pick the certificate in an SNI callback: TLS_ALT_NAME gets TLS_ALT_CERT, TLS_NAME or no name TLS_CERT"


def check_each_name_gets_its_certificate(connect, clients, names, server_leaves, rng):
    """Each of your two names gets its own certificate, in any order and any letter case"""
    wanted = {names.service: server_leaves.main.serial, names.alt: server_leaves.alt.serial}
    order = [names.alt, names.service, names.alt, names.service.upper(), names.alt.upper()]
    rng.shuffle(order)
    for n, name in enumerate(order, start=1):
        session = connect(f"client {n}", clients.reader, server_name=name, hint=SNI_HINT)
        expect_equal(
            session.serial, wanted[name.lower()], f"the serial of the certificate served for {name}", hint=SNI_HINT
        )
        expect_equal(session.request("PING"), "200 PONG", f"the reply to PING on a session for {name}")


def check_no_server_name_gets_the_main_certificate(service, pki, clients, server_leaves):
    """A client that sends no server name gets TLS_CERT"""
    context = client_context(pki.root_pem, clients.reader, check_hostname=False)
    shake = handshake(service.port, context, None, "client without SNI")
    if shake.session is None:
        fail("a client sending no server name was refused", got=shake.error, hint=SNI_HINT)
    expect_equal(
        shake.session.serial, server_leaves.main.serial, "the serial served without a server name", hint=SNI_HINT
    )
    shake.session.close()


def check_unknown_names_are_refused(service, pki, clients, names):
    """Two names that are not yours are refused during the handshake"""
    context = client_context(pki.root_pem, clients.reader, check_hostname=False)
    for name in (f"unknown-{names.service}", names.upstreams[0]):
        shake = handshake(service.port, context, name, f"client asking for {name}")
        if shake.session is not None:
            serial = shake.session.serial
            shake.session.close()
            fail(
                f"a client asking for {name}, a name that is not yours, got a session",
                expected="the handshake refused (the alert unrecognized_name, or any alert or close)",
                got=f"a session with the certificate of serial {serial}",
                hint="in your SNI callback, refuse names other than TLS_NAME and TLS_ALT_NAME",
            )
