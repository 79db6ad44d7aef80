"""tls-mtls starter: a TLS service with mutual TLS, roles by certificate identity, CALL, rotation and revocation.

Read README.md first: it is the complete specification, and the grader checks exactly what it says.

Grade it with: labkit grade tls-mtls

As shipped, this file only reports that it is not written yet and exits with status 1, so the first stage
(handshake) fails with "exited before it was ready". Replace the TODOs below; restructure freely (threads or
asyncio are both fine) as long as the behaviour matches the README.
"""

from __future__ import annotations

import os
import ssl
import sys

HOST = "127.0.0.1"
MAX_LINE = 256  # bytes, the LF included; 256 bytes without an LF: reply 400 and close

# What each command needs (README: The protocol). PING and WHOAMI need no role.
ALLOWED = {"GET": {"reader", "writer"}, "PUT": {"writer"}, "CALL": {"operator"}}

# The files (README: Files): every variable holds a path, except the two names.
FILES = ("TLS_CERT", "TLS_KEY", "TLS_ALT_CERT", "TLS_ALT_KEY", "TLS_CHAIN", "TLS_CA", "TLS_CRL",
         "TLS_CLIENT_CERT", "TLS_CLIENT_KEY", "ROLES_FILE")  # fmt: skip


def server_context(cert_variable: str, key_variable: str) -> ssl.SSLContext:
    """TODO: a server context for one of your names.

    - present the leaf (cert_variable) followed by TLS_CHAIN: load_cert_chain reads one file holding both;
    - TLS 1.2 at least; the default cipher suites;
    - require a client certificate, trust TLS_CA alone, check TLS_CRL (ssl.VERIFY_CRL_CHECK_LEAF).
    """
    raise NotImplementedError("TODO: server_context")


def main() -> None:
    """TODO: listen on 127.0.0.1:$PORT; for each connection, in its own thread (or task):

    - complete the TLS handshake, picking the certificate by SNI (an sni_callback on the main context);
    - read the client's identity (the DNS name of its subjectAltName) and its role (ROLES_FILE);
    - answer each request line (PING, WHOAMI, GET, PUT, CALL) as the README says.

    On SIGHUP, build new contexts from the files and use them for new connections only.
    """
    print("TODO: implement the service (see README.md)", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
