"""Stage 6: CALL makes the service a client that verifies the upstream it calls and presents its own certificate."""

from labkit.checks import expect, expect_equal, fail
from labkit.ports import free_port
from upstream import Upstream

LINE_HINT = (
    "read up to the upstream's first LF and answer with that line at once: do not wait for the upstream to close"
)
NO_LINE_HINT = "when the upstream's stream ends before an LF, answer 502 (stop reading at the end of the stream)"
VERIFY_HINT = "verify the upstream against TLS_CA alone, with hostname checking for the name you were asked to call"


def _upstream(pki, leaf, rng):
    return Upstream(leaf, pki.root_pem, f"200 PONG {rng.randrange(16**8):08x}")


def check_call_reaches_verified_upstreams(connect, clients, pki, names, own_client, rng):
    """CALL to two upstreams returns their replies; each saw your SNI and your client certificate"""
    operator = connect("operator", clients.operator)
    for name in names.upstreams:
        with _upstream(pki, pki.issue(name), rng) as upstream:
            reply = operator.request(f"CALL {name} {upstream.port}", timeout=10.0)
        visits = upstream.recorded()  # once closed: the upstream records a visit after answering it
        if reply != upstream.reply:
            seen = visits[-1].error if visits and visits[-1].error else "no failure on the upstream's side"
            fail(
                f"CALL {name} did not return the upstream's reply",
                expected=repr(upstream.reply),
                got=f"{reply!r} (the upstream: {seen})",
                hint="trust TLS_CA, send the name as SNI, present TLS_CLIENT_CERT with TLS_CHAIN, relay the reply line",
            )
        expect_equal(visits[-1].server_name, name, "the server name (SNI) your client sent")
        expect_equal(
            visits[-1].client_serial,
            own_client.serial,
            "the serial of the client certificate you presented",
            hint="present TLS_CLIENT_CERT (followed by TLS_CHAIN) with TLS_CLIENT_KEY",
        )
        expect_equal(visits[-1].request, b"PING\n", "the request your client sent")


def _expect_refused(operator, pki, leaf, name, rng, what, hint=VERIFY_HINT):
    with _upstream(pki, leaf, rng) as upstream:
        reply = operator.request(f"CALL {name} {upstream.port}", timeout=10.0)
    requests = [visit.request for visit in upstream.recorded() if visit.request]  # every visit, once closed
    if requests:
        fail(f"your client sent {requests[0]!r} to an upstream with {what}, which it should have refused", hint=hint)
    expect(reply.startswith("502 "), f"CALL to an upstream with {what} got {reply!r}, not 502", hint=hint)


def check_wrong_hostname_is_refused(connect, clients, pki, names, rng):
    """An upstream whose certificate names another service gets 502 and no request"""
    operator = connect("operator", clients.operator)
    called, actual = names.upstreams
    _expect_refused(operator, pki, pki.issue(actual), called, rng, f"a valid certificate for {actual}, not {called}")


def check_untrusted_upstreams_are_refused(connect, clients, pki, names, rng):
    """Upstreams with certificates from an unrelated CA or from the machine's store get 502 and no request"""
    operator = connect("operator", clients.operator)
    name = names.upstreams[0]
    _expect_refused(operator, pki, pki.issue(name, by=pki.unrelated), name, rng, "a certificate from an unrelated CA")
    _expect_refused(
        operator, pki, pki.issue(name, by=pki.public), name, rng, "a certificate from the CA in SSL_CERT_FILE",
        hint="trust TLS_CA alone: do not load the system's store (create_default_context does) for CALL",
    )  # fmt: skip


def check_expired_upstream_is_refused(connect, clients, pki, names, rng):
    """An upstream with an expired certificate gets 502 and no request"""
    operator = connect("operator", clients.operator)
    name = names.upstreams[1]
    _expect_refused(operator, pki, pki.issue(name, valid_days=(-30, -1)), name, rng, "an expired certificate")


def check_nothing_listening_is_502(connect, clients, names):
    """CALL to a port with nothing listening gets 502 and the connection stays open"""
    operator = connect("operator", clients.operator)
    reply = operator.request(f"CALL {names.upstreams[0]} {free_port()}", timeout=10.0)
    expect(reply.startswith("502 "), f"CALL to a closed port got {reply!r}, not 502")
    expect_equal(operator.request("PING"), "200 PONG", "the reply to PING after the 502")


def check_call_relays_the_first_line_and_needs_one(connect, clients, pki, names, rng):
    """CALL relays the upstream's first line while it keeps its connection open; no complete line gets 502"""
    operator = connect("operator", clients.operator)
    name = names.upstreams[0]
    leaf = pki.issue(name)
    line = f"200 PONG {rng.randrange(16**8):08x}"
    for answer in rng.sample((b"\n", b"\n201 a second line\n202 and half a third"), 2):
        with Upstream(leaf, pki.root_pem, line, answer=line.encode() + answer, linger=True) as upstream:
            reply = operator.request(f"CALL {name} {upstream.port}", timeout=10.0, hint=LINE_HINT)
        expect_equal(reply, line, "the reply to CALL of an upstream that keeps its connection open", hint=LINE_HINT)
    endings = ((b"", "closes without a reply"), (f"200 PONG {rng.randrange(99)}".encode(), "closes mid-line"))
    for answer, what in rng.sample(endings, 2):
        with Upstream(leaf, pki.root_pem, line, answer=answer) as upstream:
            reply = operator.request(f"CALL {name} {upstream.port}", timeout=10.0, hint=NO_LINE_HINT)
        expect(reply.startswith("502 "), f"CALL to an upstream that {what} got {reply!r}, not 502", hint=NO_LINE_HINT)
    expect_equal(operator.request("PING"), "200 PONG", "the reply to PING after the 502s")
