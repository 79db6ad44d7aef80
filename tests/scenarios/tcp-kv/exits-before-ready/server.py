"""tcp-kv test scenario: crashes during start-up, before it listens.

Writes a traceback-like report to stderr and exits with status 3. The grader must fail the connect stage
with "exited before listening" and show the tail of stderr.
"""

import sys

REPORT = """Traceback (most recent call last):
  File "server.py", line 12, in <module>
    config = load_config("kv.conf")
  File "server.py", line 7, in load_config
    with open(path) as f:
FileNotFoundError: [Errno 2] No such file or directory: 'kv.conf'
"""


def main() -> int:
    sys.stderr.write(REPORT)
    sys.stderr.flush()
    return 3


if __name__ == "__main__":
    sys.exit(main())
