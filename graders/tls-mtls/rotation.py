"""Helpers of the rotation and revocation stages: a signal, and a poll of new connections for its effect."""

from __future__ import annotations

import signal

from labkit.checks import fail, log
from labkit.learners import LearnerProcess
from labkit.wait import until
from pki import Leaf, Pki
from tlsclient import attempt, client_context, handshake

RELOAD_WITHIN_S = 5.0  # the README's promise: a reload takes effect within 5 s of the signal
POLL_S = 0.1
EXIT_GRACE_S = 0.5
EXIT_HINT = "handle SIGHUP (its default action ends the process) and reload in the running process"


def send_sighup(process: LearnerProcess) -> None:
    log(f"grader: SIGHUP to your program (pid {process.pid})")
    process.send_signal(signal.SIGHUP)


def expect_alive(process: LearnerProcess, after: str, *, grace: float = 0.0) -> None:
    """Fails the check when the program has exited, waiting ``grace`` seconds for an exit under way to show."""
    if grace:
        until(lambda: process.exit_code() is not None, grace, interval=POLL_S)
    code = process.exit_code()
    if code is not None:
        how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        fail(f"your program exited {after} ({how})", hint=EXIT_HINT)


def session_serial(port: int, pki: Pki, identity: Leaf, name: str) -> int | None:
    """The serial a new verified session for ``name`` is served, or None when no session opens."""
    shake = handshake(port, client_context(pki.root_pem, identity), name, f"new client for {name}")
    if shake.session is None:
        return None
    try:
        return shake.session.serial
    finally:
        shake.session.close()


def expect_new_serial(process: LearnerProcess, port: int, pki: Pki, identity: Leaf, name: str, serial: int) -> None:
    """New connections for ``name`` get ``serial`` within the README's time after a SIGHUP."""
    seen: list[int | None] = []

    def rotated() -> bool:
        seen.append(session_serial(port, pki, identity, name))
        return seen[-1] == serial

    if until(rotated, RELOAD_WITHIN_S, interval=POLL_S):
        return
    expect_alive(process, "after SIGHUP", grace=EXIT_GRACE_S)
    last = seen[-1] if seen else None
    fail(
        f"new connections for {name} did not get the new certificate within {RELOAD_WITHIN_S:g} s of SIGHUP",
        expected=f"a certificate with serial {serial}",
        got=f"serial {last} (the old one)" if last is not None else "no session at all",
        hint="on SIGHUP read the certificate files again and use them for every connection accepted from then on",
    )


def expect_refused_within(process: LearnerProcess, port: int, pki: Pki, identity: Leaf, name: str, what: str) -> None:
    """A client presenting ``identity`` is refused within the README's time after a SIGHUP."""
    outcomes: list[str] = []

    def refused() -> bool:
        outcome = attempt(port, client_context(pki.root_pem, identity), name, what)
        outcomes.append(outcome.how)
        return not outcome.let_in

    if until(refused, RELOAD_WITHIN_S, interval=POLL_S):
        return
    expect_alive(process, "after SIGHUP", grace=EXIT_GRACE_S)
    fail(
        f"{what} was still let in {RELOAD_WITHIN_S:g} s after the new CRL and SIGHUP",
        got=outcomes[-1],
        hint="on SIGHUP read TLS_CRL again into the store that verifies new clients",
    )
