"""concurrency starter: a client that runs the upstream's job list.

Read README.md first: it is the complete specification, and the grader checks exactly what it says.

Run it with:   UPSTREAM=http://127.0.0.1:7070 LIMIT=4 TIMEOUT_MS=1000 RETRIES=2 BACKOFF_MS=200 \
                 ROUNDS=1000 WORKERS=2 python3 client.py
Grade it with: labkit grade concurrency

As shipped, this file reports that it is not written yet and exits with status 1, so the first stage fails.
Replace the TODOs below.
"""

import os
import sys


def main() -> int:
    upstream = os.environ.get("UPSTREAM", "")
    limit = int(os.environ.get("LIMIT", "1"))
    # TODO: GET /jobs from UPSTREAM; run the jobs with LIMIT requests in flight, TIMEOUT_MS per attempt and
    # RETRIES retries with backoff; compute each body's digest (ROUNDS rounds of SHA-256, WORKERS at a time);
    # print one result line per job in job-list order (README.md).
    # TODO: when PORT is set, answer "ping" with "pong" on 127.0.0.1:$PORT; on SIGINT, exit with 130.
    print(f"TODO: run the job list of {upstream} with {limit} requests in flight (see README.md)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
