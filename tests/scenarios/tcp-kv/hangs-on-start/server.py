"""tcp-kv test scenario: never listens.

Starts, then sleeps forever without opening a socket. The grader must give up after its start-up
timeout, fail the connect stage and kill the process.
"""

import time


def main() -> None:
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
