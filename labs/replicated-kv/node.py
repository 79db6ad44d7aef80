"""replicated-kv starter: one node of a replicated key-value store.

Read README.md first: it is the complete specification, and the grader checks exactly what it says.

Run three nodes by hand as README.md's "Trying it by hand" shows.
Grade them with:  labkit grade replicated-kv

As shipped, this file reports that it is not written yet and exits with status 1, so the first stage fails
with "exited before it was ready". Replace the TODOs below.
"""

import os
import sys

HOST = "127.0.0.1"


def main() -> None:
    node_id, port = int(os.environ["NODE_ID"]), int(os.environ["PORT"])
    size, peers = int(os.environ["CLUSTER_SIZE"]), os.environ.get("PEERS", "")
    # TODO: listen for clients on (HOST, port): one JSON request per line, one JSON answer per line (README).
    # TODO: listen for the other nodes on (HOST, PEER_PORT) and reach them at the addresses in PEERS.
    # TODO: elect a leader, replicate every write to a majority, keep term, vote and log in DATA_DIR.
    print(f"TODO: implement node {node_id} of {size} on {HOST}:{port}, peers {peers!r} (see README.md)", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
