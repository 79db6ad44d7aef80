"""dns-resolver starter: a recursive DNS resolver on UDP and TCP.

Read README.md first: it is the complete specification, and the grader checks exactly what it says.

Run it with:   PORT=7070 ROOT_SERVERS=127.0.0.1 DNS_PORT=5353 python3 server.py
Grade it with: labkit grade dns-resolver

As shipped, this file receives queries and answers none, so the first stage fails: it "did not answer the
grader's probe datagram". Replace the TODOs below.
"""

import os
import socket

HOST = "127.0.0.1"


def main() -> None:
    port = int(os.environ["PORT"])
    roots = os.environ["ROOT_SERVERS"].split(",")  # the root servers' addresses, in the order to try them
    upstream_port = int(os.environ["DNS_PORT"])  # every upstream server listens on this port
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((HOST, port))
    # TODO: also listen on TCP (HOST, port): each message is preceded by its 2-byte length.
    while True:
        query, client = udp.recvfrom(65535)
        # TODO: parse the query (README "A well-formed query"), resolve it from `roots` at `upstream_port`
        # ("Resolving"), and send the reply to `client` ("Every reply", "Answers").
        _ = (query, client, roots, upstream_port)


if __name__ == "__main__":
    main()
