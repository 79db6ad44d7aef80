"""Stage 7: SIGHUP puts new certificates in service for new connections, without a restart or a dropped client."""

from labkit.checks import expect_equal, fail
from labkit.wait import until
from rotation import EXIT_GRACE_S, expect_alive, expect_new_serial, send_sighup, session_serial
from service_files import ServerLeaves

BROKEN_WATCH_S = 0.8  # how long new sessions are watched after a broken reload
KEEP_HINT = "a reload changes what new connections get: never close open connections or the listener, never restart"


def _rotate(own, pki, names):
    leaves = ServerLeaves(main=pki.issue(names.service), alt=pki.issue(names.alt))
    own.files.rotate(leaves)
    send_sighup(own.process)
    return leaves


def check_new_connections_get_the_new_certificates(own_service, pki, names, clients):
    """After new files and SIGHUP, new connections get the new certificates for both names"""
    for round_ in (1, 2):
        leaves = _rotate(own_service, pki, names)
        expect_new_serial(own_service.process, own_service.port, pki, clients.reader, names.service, leaves.main.serial)
        expect_new_serial(own_service.process, own_service.port, pki, clients.reader, names.alt, leaves.alt.serial)
        expect_alive(own_service.process, f"after SIGHUP number {round_}")


def check_open_connections_survive_a_reload(own_service, connector, pki, names, clients):
    """Connections opened before SIGHUP, one with half a request sent, go on being answered"""
    connect = connector(own_service.port)
    sessions = [
        connect(label, identity) for label, identity in (("reader", clients.reader), ("writer", clients.writer))
    ]
    for session in sessions:
        expect_equal(session.request("PING"), "200 PONG", f"the {session.label}'s PING before the reload")
    half = connect("client with half a request", clients.operator)
    half.send(b"WHO")
    leaves = _rotate(own_service, pki, names)
    expect_new_serial(own_service.process, own_service.port, pki, clients.reader, names.service, leaves.main.serial)
    half.send(b"AMI\n", hint=KEEP_HINT)
    reply = half.reply("the reply to a WHOAMI half sent before SIGHUP", hint=KEEP_HINT)
    expect_equal(reply, f"200 {clients.operator.name} operator", "the reply to the WHOAMI sent across the reload")
    for session in sessions:
        reply = session.request("PING", hint=KEEP_HINT)
        expect_equal(reply, "200 PONG", f"the {session.label}'s PING after the reload", hint=KEEP_HINT)


def check_broken_files_keep_the_old_certificate(own_service, pki, names, clients):
    """A SIGHUP with a broken, missing or mismatched file keeps every old certificate; a later good one is picked up"""
    files = own_service.files
    old = {names.service: files.leaves.main.serial, names.alt: files.leaves.alt.serial}
    breakages = (
        ("a TLS_CERT that is not a certificate", files.break_server_cert),
        ("a good new TLS_CERT and TLS_KEY but no TLS_ALT_KEY file", lambda: files.new_main_without_alt_key(
            pki.issue(names.service))),
        ("a TLS_KEY that does not match TLS_CERT", lambda: files.mismatch_server_key(pki.issue(names.service))),
    )  # fmt: skip
    for what, breakage in breakages:
        breakage()
        send_sighup(own_service.process)
        _expect_old_certificates(own_service, pki, clients, old, what)
        files.restore()
    leaves = _rotate(own_service, pki, names)
    expect_new_serial(own_service.process, own_service.port, pki, clients.reader, names.service, leaves.main.serial)


def _expect_old_certificates(own, pki, clients, old: dict[str, int], what: str) -> None:
    """New sessions for both names, for a while after the signal, all get the certificates served before it."""
    served: list[tuple[str, int | None]] = []

    def broke() -> bool:  # any session that fails or gets another serial is the verdict
        for name, serial in old.items():
            served.append((name, session_serial(own.port, pki, clients.reader, name)))
            if served[-1][1] != serial:
                return True
        return False

    if until(broke, BROKEN_WATCH_S, interval=0.1):
        expect_alive(own.process, f"after SIGHUP with {what}", grace=EXIT_GRACE_S)
        name, serial = served[-1]
        fail(
            f"after a SIGHUP with {what}, a new connection for {name} did not get the old certificate",
            expected=f"a session with the old certificate (serial {old[name]})",
            got=f"serial {serial}" if serial is not None else "no session",
            hint="load all the new files first (any may be missing, malformed or mismatched: catch every error, "
            "OSError included); if any fails, keep everything as it was and log a line to stderr",
        )
